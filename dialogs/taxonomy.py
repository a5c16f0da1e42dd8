"""Inquiry types and topics as values the dialogs understand.

They come from the config (``bot.config`` builds them); the dialogs never read YAML. Keeping them
as data lets an operator add a topic or a keyword without a release.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Bilingual:
    zh: str
    en: str

    def get(self, locale: str) -> str:
        return self.en if locale == "en" else self.zh


@dataclass(frozen=True, slots=True)
class InquiryType:
    """投诉 / 举报·反映 / 咨询 / 求助 / 建议. ``location_required`` is false where an answer
    rarely depends on a place (a question about pension rules)."""

    code: str
    name: Bilingual
    keywords: tuple[str, ...] = ()
    location_required: bool = True


@dataclass(frozen=True, slots=True)
class Topic:
    code: str
    name: Bilingual
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Taxonomy:
    types: tuple[InquiryType, ...]
    topics: tuple[Topic, ...]
    default_type: str = "complaint"

    def type_by_code(self, code: str | None) -> InquiryType | None:
        return next((t for t in self.types if t.code == code), None)

    def topic_by_code(self, code: str | None) -> Topic | None:
        return next((t for t in self.topics if t.code == code), None)
