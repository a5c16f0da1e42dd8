"""The composition root: every part is built here, from the config, and handed down.

Nothing else in the service constructs a collaborator or reads the config, so a test can build
the whole service on a temporary database with a fixed clock and get exactly what runs in
production.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from aiohttp import web
from redis.asyncio import Redis

from adapters.base import Channel, route_table
from adapters.web.login_throttle import LoginThrottle
from adapters.web.redis_login_throttle import RedisLoginThrottle
from adapters.web.staffweb import StaffWebChannel
from adapters.web.webchat import WebchatChannel
from bot import console_ops, hot_topics
from bot.access_log import access_log
from bot.channels import PLATFORMS, BackgroundChannel, ChannelDeps, platform_channels
from bot.config import AppConfig, DuplicatesConfig
from bot.dispatcher import Dispatcher, Repositories
from bot.health import HealthCheck
from bot.logs import config_secrets, protect
from bot.metrics import Metrics
from bot.open311.web import install_open311
from bot.outbox import Outbox, OutboxWorker, RetryPolicy
from bot.overload import Admission, LoopLag, stamp_arrival
from bot.public_web import install_public, public_site
from bot.recovery import recovery_loop
from bot.routes import healthz, metrics_endpoint, to_chat
from bot.services import HEALTH, SERVICES, Services
from bot.staff_auth import SqlStaffAuth
from bot.timers import TimerWorker
from bot.wire_console import mount_console
from dialogs.address import AddressParser
from dialogs.classifier import load_newest
from dialogs.engine import DialogEngine
from dialogs.extraction import Extractor
from dialogs.forms import Settings
from dialogs.taxonomy import Bilingual
from storage.audit import AuditLog
from storage.database import PoolSettings, create_engine, create_reader_engine, is_sqlite, session_factory
from storage.group_commit import GroupCommitter
from storage.identities import IdentityRepository
from storage.inbound import InboundRepository
from storage.mailbox import SqlMailbox
from storage.migrate import pending, upgrade
from storage.nonces import NonceRepository
from storage.outbox import OutboxRepository
from storage.ratings import RatingRepository
from storage.sessions import MemorySessionStore, RedisSessionStore, SessionStore
from storage.sqlite_sessions import SqliteSessionStore, session_file_for
from storage.staff import DepartmentSeed, StaffRepository, StaffSeed
from storage.tickets import TicketRepository
from storage.timers import TimerRepository
from tickets.context import Workflow, WorkflowSettings
from tickets.deadlines import DeadlineClock, DeadlinePolicy, OfficeHours, WorkingCalendar
from tickets.duplicate_finder import DuplicateFinder, DuplicateRules
from tickets.ladder import Ladder
from tickets.routing import DepartmentInfo, Directory
from tickets.segment import Segmenter
from tickets.similarity import TextSimilarity
from tickets.staff_desk import StaffDesk


def utcnow() -> datetime:
    return datetime.now(UTC)


def directory_from(config: AppConfig) -> Directory:
    """The departments of the config, as routing and the reports read them."""
    return Directory(
        departments=tuple(
            DepartmentInfo(
                code=d.code,
                name=Bilingual(d.name.zh, d.name.en),
                topics=tuple(d.topics),
                districts=tuple(d.districts),
                telegram_chat_id=d.telegram_chat_id,
            )
            for d in config.departments
        ),
        default=config.default_department,
    )


def duplicate_rules(config: DuplicatesConfig) -> DuplicateRules:
    return DuplicateRules(
        enabled=config.enabled,
        citizen_radius_m=config.citizen_radius_m,
        staff_radius_m=config.staff_radius_m,
        answered_days=config.answered_days,
        lookback_days=config.lookback_days,
        repeat_days=config.repeat_days,
    )


def build_services(config: AppConfig, clock: Callable[[], datetime] = utcnow) -> Services:
    tz = ZoneInfo(config.server.timezone)
    storage = config.storage
    db = create_engine(
        storage.database_url,
        pool=PoolSettings(storage.pool_size, storage.pool_max_overflow, storage.pool_timeout_seconds),
    )
    reader_db = create_reader_engine(config.storage.database_url, db)
    sessions = session_factory(db)
    store = _session_store(config)
    taxonomy = config.taxonomy.build()
    addresses = AddressParser(config.dialog.service_province, config.dialog.service_city)
    engine = DialogEngine(
        taxonomy,
        Extractor(taxonomy, addresses, load_newest(Path(config.storage.model_dir))),
        addresses,
        Settings(
            timezone=tz,
            idle_minutes=config.dialog.idle_minutes,
            min_details_chars=config.dialog.min_details_chars,
            max_details_chars=config.dialog.max_details_chars,
            default_locale=config.dialog.default_locale,
        ),
    )
    calendar = WorkingCalendar()
    deadlines = DeadlineClock(
        [DeadlinePolicy(r.type, r.topic, r.respond_hours, r.answer_working_days) for r in config.deadlines],
        calendar,
        tz,
    )
    metrics = Metrics()
    loop_lag = LoopLag()
    outbox_repo = OutboxRepository()
    outbox = Outbox(outbox_repo)
    repos = Repositories(
        IdentityRepository(), InboundRepository(), TicketRepository(), StaffRepository(), NonceRepository()
    )
    directory = directory_from(config)
    timer_repo = TimerRepository()
    enabled_platforms = frozenset(name for name in PLATFORMS if getattr(config.channels, name).enabled)
    segmenter = Segmenter()  # jieba, loaded on first use; shared by duplicates and hot topics
    workflow = Workflow(
        directory=directory,
        taxonomy=taxonomy,
        deadlines=deadlines,
        settings=WorkflowSettings(
            remind_before=timedelta(hours=config.workflow.remind_before_hours),
            rating_window=timedelta(days=config.workflow.rating_window_days),
            office_hours=OfficeHours.parse(config.workflow.office_hours, calendar=calendar, tz=tz),
            ladder=Ladder(
                red_after_working_days=config.workflow.escalation.red_after_working_days,
                urge_interval=timedelta(hours=config.workflow.escalation.urge_interval_hours),
                calendar=calendar,
            ),
        ),
        tz=tz,
        outbox=outbox,
        tickets=repos.tickets,
        staff=repos.staff,
        identities=repos.identities,
        audit=AuditLog(),
        timers=timer_repo,
        ratings=RatingRepository(),
        staff_channels=enabled_platforms,
        duplicates=DuplicateFinder(rules=duplicate_rules(config.duplicates), similarity=TextSimilarity(segmenter)),
        hot_rules=hot_topics.rules_from(config),
    )
    dispatcher = Dispatcher(
        sessions=sessions,
        store=store,
        engine=engine,
        repos=repos,
        outbox=outbox,
        deadlines=deadlines,
        tz=tz,
        metrics=metrics,
        clock=clock,
        workflow=workflow,
        staff_desk=StaffDesk(workflow=workflow, tickets=repos.tickets, taxonomy=taxonomy, tz=tz),
        committer=GroupCommitter(sessions=sessions),
        admission=Admission(lag=loop_lag),
    )
    channels: dict[str, Channel] = {}
    public = config.server.public_url or ""
    readers = session_factory(reader_db)

    server = config.server
    staffweb = StaffWebChannel(
        dispatcher,
        SqlMailbox(sessions, readers),
        SqlStaffAuth(
            sessions=sessions,
            readers=readers,
            repo=repos.staff,
            clock=clock,
            token_max_age=timedelta(days=server.staff_token_days),
            session_max_age=timedelta(hours=server.staff_session_hours),
        ),
        clock,
        throttle=_login_throttle(config),
        max_body_bytes=config.server.max_body_bytes,
        cookie_secure=public.startswith("https://"),
    )
    channels[staffweb.name] = staffweb
    webchat: WebchatChannel | None = None
    if config.channels.webchat.enabled:
        secure = config.channels.webchat.cookie_secure
        webchat = WebchatChannel(
            dispatcher,
            SqlMailbox(sessions, readers),
            Path(config.storage.media_dir),
            clock,
            max_body_bytes=config.server.max_body_bytes,
            max_upload_bytes=config.channels.webchat.max_upload_bytes,
            cookie_secure=public.startswith("https://") if secure is None else secure,
        )
        channels[webchat.name] = webchat
    platforms = platform_channels(
        config,
        ChannelDeps(
            sink=dispatcher,
            store=store,
            clock=clock,
            metrics=metrics,
            sessions=sessions,
            max_body_bytes=config.server.max_body_bytes,
            public_url=config.server.public_url,
            staff_group_chats=frozenset(d.telegram_chat_id for d in config.departments if d.telegram_chat_id),
            redis_url=config.storage.redis_url,
        ),
    )
    channels.update(platforms)
    worker = OutboxWorker(
        sessions=sessions,
        repo=outbox_repo,
        outbox=outbox,
        channels=channels,
        policy=RetryPolicy(
            config.outbox.max_attempts, config.outbox.base_delay_seconds, config.outbox.max_delay_seconds
        ),
        metrics=metrics,
        clock=clock,
        batch_size=config.outbox.batch_size,
        concurrency=config.outbox.concurrency,
        readers=readers,
        sole_worker=is_sqlite(db),  # the embedded default is one process: leftovers are a dead predecessor's
    )
    timer_worker = TimerWorker(
        sessions=sessions,
        timers=timer_repo,
        workflow=workflow,
        outbox=outbox,
        clock=clock,
        hot_topics=hot_topics.build_service(
            config, outbox=outbox, staff=repos.staff, staff_channels=enabled_platforms, segmenter=segmenter
        ),
    )
    return Services(
        config,
        db,
        reader_db,
        sessions,
        store,
        metrics,
        dispatcher,
        outbox,
        worker,
        engine,
        channels,
        webchat,
        clock,
        addresses,
        workflow,
        timer_worker,
        staffweb,
        platforms,
        loop_lag=loop_lag,
        segmenter=segmenter,
    )


def _login_throttle(config: AppConfig) -> LoginThrottle | RedisLoginThrottle:
    """Failed /staff sign-ins: counted in Redis when configured (all workers together), else here."""
    server = config.server
    window = server.staff_login_window_minutes * 60.0
    if config.storage.redis_url:
        redis = Redis.from_url(config.storage.redis_url, socket_timeout=5, socket_connect_timeout=5)
        return RedisLoginThrottle(redis=redis, max_failures=server.staff_login_failures, window_seconds=window)
    return LoginThrottle(max_failures=server.staff_login_failures, window_seconds=window)


def _session_store(config: AppConfig) -> SessionStore:
    """Redis when configured (several workers); else a SQLite file, so drafts survive a restart."""
    if config.storage.redis_url:
        return RedisSessionStore.from_url(config.storage.redis_url)
    path = session_file_for(config.storage.database_url, config.storage.media_dir)
    return MemorySessionStore() if path is None else SqliteSessionStore(path=path)


async def prepare_database(services: Services) -> None:
    """An embedded SQLite is upgraded in place; a shared server is upgraded by the operator
    (``wenzheng db upgrade``), because several workers must not race to migrate it."""
    if is_sqlite(services.db):
        await upgrade(services.db, timezone=services.config.server.timezone)
    elif await pending(services.db):
        raise RuntimeError("the database schema is behind this release: run `wenzheng db upgrade` first")
    await seed_directory(services)


async def seed_directory(services: Services) -> None:
    """Departments and staff from the config into the database (staff added by the CLI stay)."""
    config = services.config
    departments = [
        DepartmentSeed(d.code, d.name.zh, d.name.en, tuple(d.topics), tuple(d.districts), d.telegram_chat_id)
        for d in config.departments
    ]
    staff = [
        StaffSeed(m.name, m.department, m.role, tuple((i.channel, i.id) for i in m.identities), m.locale)
        for m in config.staff
    ]
    async with services.sessions.begin() as session:
        await StaffRepository().seed(session, departments, staff, services.clock())


def build_app(
    config: AppConfig, *, clock: Callable[[], datetime] = utcnow, run_workers: bool = True
) -> web.Application:
    protect(config_secrets(config))  # no token or password in any log line, however the app is run
    services = build_services(config, clock)
    client_max = max(config.server.max_body_bytes, config.channels.webchat.max_upload_bytes + 65536)
    app = web.Application(client_max_size=client_max, middlewares=[stamp_arrival, access_log])
    app[SERVICES] = services
    app[HEALTH] = health = HealthCheck(db=services.db, store=services.store)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics_endpoint)
    if services.webchat is not None:
        app.router.add_routes(route_table(services.webchat.routes()))
        app.router.add_get("/", to_chat)
    app.router.add_routes(route_table(services.staffweb.routes()))
    mount_console(app, services)
    for platform in services.platforms.values():
        app.router.add_routes(route_table(platform.routes()))
    install_public(app, site=public_site(services))
    install_open311(app, services)

    async def start(app: web.Application) -> None:
        await prepare_database(services)
        await console_ops.check_staffing(services)
        await asyncio.to_thread(services.addresses.warm_up)  # else the first citizen waits for the index
        if services.segmenter is not None:
            await asyncio.to_thread(services.segmenter.warm_up)  # else the first 提交 holds the loop ~2 s
        services.tasks.append(asyncio.create_task(services.loop_lag.run(services.stop)))
        if run_workers:
            services.tasks.append(
                asyncio.create_task(services.worker.run_forever(services.stop, config.outbox.poll_seconds))
            )
            services.tasks.append(asyncio.create_task(recovery_loop(services.dispatcher, services.stop)))
            services.tasks.append(asyncio.create_task(console_ops.department_gauges_loop(services, services.stop)))
            services.tasks.append(
                asyncio.create_task(services.timer_worker.run_forever(services.stop, config.workflow.poll_seconds))
            )
            for channel in services.channels.values():
                if isinstance(channel, BackgroundChannel):
                    services.tasks.append(asyncio.create_task(channel.run(services.stop)))

    async def shutdown(app: web.Application) -> None:
        services.stop.set()
        if services.webchat is not None:
            await services.webchat.close()
        await services.staffweb.close()

    async def cleanup(app: web.Application) -> None:
        services.stop.set()
        services.outbox.wake()
        await health.close()
        for task in services.tasks:
            task.cancel()
        for task in services.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for platform in services.platforms.values():
            close = getattr(platform, "close", None)
            if close is not None:
                await close()
        await services.dispatcher.close()
        await services.store.close()
        await services.dispose_databases()

    app.on_startup.append(start)
    app.on_shutdown.append(shutdown)
    app.on_cleanup.append(cleanup)
    return app
