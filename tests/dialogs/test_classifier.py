"""The classifier's mechanics (features, the file, calibration, thresholds, the split) and the
shipped model on the failure classes of issue #11, each with its own new example."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot.cli.corpus import Example, is_held_out, split
from bot.cli.model_training import ask_cap_threshold, choose_threshold, fit_temperature
from bot.config import load_config
from dialogs.address import AddressParser
from dialogs.classifier import LinearClassifier, features, load_newest, newest_model, shipped_model_path
from dialogs.extraction import Extractor
from tests.dialogs.classifier_helpers import hand_set_classifier

ROOT = Path(__file__).resolve().parents[2]

# --- mechanics ------------------------------------------------------------------------------------


def test_features_ignore_width_case_invisible_characters_and_which_number() -> None:
    assert features("Ｂｕｓ　３号线\u200b坏了") == features("bus 7号线坏了")
    assert "w:bus" in features("the bus is late")
    linked = features("路灯坏了，原微博：https://m.weibo.cn/status/4981234567890123，谢谢")
    assert linked == features("路灯坏了，原微博： ，谢谢") and "w:weibo" not in linked


def test_a_model_file_round_trips_without_pickle(tmp_path: Path) -> None:
    model = hand_set_classifier()
    path = tmp_path / "classifier-x.npz"
    model.save(path)
    with np.load(path, allow_pickle=False) as data:  # would raise if any array needed pickle
        assert {"vocabulary", "idf", "topic.weights", "type.bias", "header"} <= set(data.files)
    loaded = LinearClassifier.load(path)
    for said in ("灯坏了", "学校门口车站的灯", "医院"):
        a, b = model.predict_all(said), loaded.predict_all(said)
        assert [c.code for c in a["topic"].candidates] == [c.code for c in b["topic"].candidates]
        assert a["topic"].candidates[0].probability == pytest.approx(b["topic"].candidates[0].probability, abs=1e-3)
        assert a["topic"].confident == b["topic"].confident


def test_a_tie_is_never_confident_and_keeps_every_tied_candidate_on_top() -> None:
    tie = hand_set_classifier().predict("灯车学", "topic")
    assert not tie.confident
    assert set(tie.top(3)) == {"urban", "transport", "education"}
    assert tie.candidates[0].probability == pytest.approx(tie.candidates[2].probability)


def test_text_the_model_knows_nothing_of_is_never_confident() -> None:
    assert not hand_set_classifier(threshold=0.1).predict("嗯嗯嗯", "topic").confident


def test_the_service_loads_the_newest_model(tmp_path: Path) -> None:
    old, new = hand_set_classifier(), hand_set_classifier(strength=1.0)
    new.meta["trained_at"] = "2999-01-01T00:00:00+00:00"
    old.save(tmp_path / "classifier-a.npz")
    new.save(tmp_path / "classifier-b.npz")
    assert newest_model(tmp_path) == tmp_path / "classifier-b.npz"
    loaded = load_newest(tmp_path)
    assert loaded is not None and str(loaded.meta["trained_at"]).startswith("2999")
    (tmp_path / "classifier-b.npz").unlink()
    assert newest_model(tmp_path) in (tmp_path / "classifier-a.npz", shipped_model_path())


def test_temperature_scaling_softens_overconfident_scores() -> None:
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, 600)
    scores = rng.normal(0, 1, (600, 3))
    right = rng.random(600) < 0.6  # right 60% of the time, but the scores say "certain"
    scores[np.arange(600), np.where(right, y, (y + 1) % 3)] += 12.0
    assert fit_temperature(scores, y) > 3.0


def test_the_threshold_keeps_silent_mistakes_within_the_target_and_asks_no_more_than_needed() -> None:
    confidence = [0.95, 0.9, 0.85, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2]
    correct = [True, True, True, False, True, True, False, True, False, False]
    t = choose_threshold(confidence, correct, target_misroute=0.1)
    filed = [(c, ok) for c, ok in zip(confidence, correct, strict=True) if c >= t]
    assert sum(1 for _, ok in filed if not ok) / len(confidence) <= 0.1
    assert t == 0.6  # files 0.8 (wrong): 1 of 10; lower would also file 0.5 (wrong): 2 of 10
    assert choose_threshold([0.9, 0.8], [False, False], target_misroute=0.0) > 0.9  # always ask


def test_the_ask_cap_asks_at_most_its_share() -> None:
    confidence = [i / 100 for i in range(100)]
    t = ask_cap_threshold(confidence, 0.3)
    assert sum(1 for c in confidence if c < t) == 30


def test_the_held_out_side_depends_on_the_id_alone_and_is_about_a_fifth() -> None:
    ids = [f"x-{i}" for i in range(5000)]
    held = [i for i in ids if is_held_out(i)]
    assert 0.18 < len(held) / len(ids) < 0.22
    assert [is_held_out(i) for i in ids[:50]] == [is_held_out(i) for i in ids[:50]]
    tickets = [Example(id=f"ticket:{i}", text="t", topic=("urban",), source="retopic") for i in range(50)]
    _train, held_tickets = split(tickets)
    assert held_tickets == []  # the city's own labels always train


# --- the shipped model on the failure classes of issue #11 ----------------------------------------

needs_model = pytest.mark.skipif(not shipped_model_path().is_file(), reason="no shipped model")


@pytest.fixture(scope="module")
def extractor() -> Extractor:
    taxonomy = load_config(ROOT / "config.yaml", environ={}).taxonomy.build()
    model = LinearClassifier.load(shipped_model_path())
    return Extractor(taxonomy, AddressParser(), model)


def _top(extractor: Extractor, said: str) -> str | None:
    ranked = extractor.classify(said).topic_candidates
    return ranked[0].code if ranked else None


def _not_silently_wrong(extractor: Extractor, said: str, topic: str) -> None:
    """Filed under the right topic, or asked with the right one among the three buttons."""
    found = extractor.classify(said)
    if found.topic_code is None:
        assert topic in [c.code for c in found.topic_candidates[:3]]
    else:
        assert found.topic_code == topic


@needs_model
@pytest.mark.parametrize(
    ("said", "topic"),
    [
        # 交通 vs 文物: a listed old building damaged by road works is a heritage matter.
        ("修路的挖掘机把省级文物保护单位老城墙挖掉了一段，交通局的工程，没人管文物", "culture_tourism"),
        # 学生 vs 传销: asked (education 0.61, public_security second), never filed as education.
        ("有个公司天天拉大学生去听课，交钱入会发展下线，说是创业其实是传销", "public_security"),
    ],
)
def test_ties_between_topic_words_go_to_the_subject_or_are_asked(extractor: Extractor, said: str, topic: str) -> None:
    _not_silently_wrong(extractor, said, topic)


@needs_model
@pytest.mark.xfail(
    strict=True,
    reason="known gap: the corpus has ~5 传销 messages against hundreds about students, so a campus "
    "pyramid scheme is filed as education with 0.95 (more 传销 examples in dialogs/corpus/raw fix it)",
)
def test_a_pyramid_scheme_recruiting_students_is_public_security() -> None:
    taxonomy = load_config(ROOT / "config.yaml", environ={}).taxonomy.build()
    extractor = Extractor(taxonomy, AddressParser(), LinearClassifier.load(shipped_model_path()))
    said = "有人在大学城给在校学生办所谓的创业课，要交三千块入会再拉人头返钱，这不就是传销吗"
    _not_silently_wrong(extractor, said, "public_security")


@needs_model
@pytest.mark.parametrize(
    ("said", "topic"),
    [
        ("我户口迁到了本市，请问在外地住院花的钱医保能不能报销，报销比例是多少", "social_security"),
        ("我们村的村民都在反映，村东头那家化工厂晚上偷偷往河里排黑水，鱼都死光了", "environment"),
        ("高速出口附近一辆油罐车翻了，柴油漏进了旁边的水塘和农田，到现在还有很大的油味", "environment"),
    ],
)
def test_an_incidental_word_does_not_outweigh_the_subject(extractor: Extractor, said: str, topic: str) -> None:
    assert _top(extractor, said) == topic


@needs_model
def test_a_long_letter_to_the_mayor_is_read_for_its_subject(extractor: Extractor) -> None:
    letter = (
        "尊敬的李市长：您好！冒昧给您写信，打扰您宝贵的时间了。我是一名退休教师，在这座城市生活了四十多年，"
        "亲眼看着城市一天天变好，心里十分感激市委市政府的辛勤付出。今天写信是想反映一个困扰我们小区居民很久的问题："
        "我们小区楼下的污水管道去年起就经常堵塞，一下雨整个路口都是积水，井盖还冒出污水，臭气熏天，"
        "老人孩子出门都要绕着走。我们给物业打过电话，也找过街道，都说不归他们管。恳请市长百忙之中过问一下，"
        "此致敬礼！一位老市民"
    )
    found = extractor.classify(letter)
    assert found.topic_candidates[0].code == "urban"


@needs_model
@pytest.mark.parametrize(
    "said",
    [
        "我们小区门口那盏路灯已经黑了好几天了，晚上走路看不见",
        "街口的路灯坏了好几天，晚上黑漆漆的，请派人修一下",
        "滨海路公交站旁边的路灯不亮了，麻烦派人来修一下",  # unsure of both: asked, not filed as 投诉
    ],
)
def test_a_broken_street_light_is_never_filed_silently_as_a_complaint(extractor: Extractor, said: str) -> None:
    found = extractor.classify(said)
    assert found.type_code != "complaint"
    assert found.type_code in ("report", "help") or found.type_code is None
    _not_silently_wrong(extractor, said, "urban")


@needs_model
def test_a_clear_broken_street_light_is_filed_as_a_report_without_a_question(extractor: Extractor) -> None:
    assert extractor.classify("街口的路灯坏了好几天，晚上黑漆漆的，请派人修一下").type_code == "report"


@needs_model
def test_the_readme_example_is_sure_of_both_topic_and_type(extractor: Extractor) -> None:
    found = extractor.classify("青岛市市南区香港中路的路灯坏了一个星期了，晚上很危险")
    assert found.topic_code == "urban"
    assert found.type_code is not None and found.type_code != "complaint"
