"""The canonical tables (spec/data-format.md) and their row rules, as data."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Column:
    name: str
    type: str = "string"  # string, enum, timestamp, date, integer, number, boolean
    required: bool = False
    default: object = None
    allowed: tuple[str, ...] = ()  # for enums; empty = any value (lower-cased)
    min: float | None = None
    max: float | None = None
    min_exclusive: bool = False
    not_before: tuple[str, ...] = ()  # columns this one must be >= (same row)


@dataclass(frozen=True)
class Table:
    name: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    time: str  # the instant a row comes into existence (as-of filter)
    later: tuple[str, ...] = ()  # optional instants nulled when after the as-of
    ticket_link: bool = False  # has a ticket_id reaching tickets
    customer_link: bool = False  # has a customer_id reaching customers
    extra_checks: tuple[str, ...] = field(default=())

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


S, E, TS = "string", "enum", "timestamp"
C = Column

TICKETS = Table(
    "tickets",
    ("ticket_id",),
    (
        C("ticket_id", required=True),
        C("created_at", TS, required=True),
        C("channel", E),
        C("category", E),
        C("priority", E, allowed=("low", "normal", "high", "urgent")),
        C("status", E, allowed=("open", "pending", "on_hold", "resolved", "closed")),
        C("customer_id"),
        C("customer_tier", E),
        C("agent_id"),
        C("team"),
        C("first_response_at", TS, not_before=("created_at",)),
        C("resolved_at", TS, not_before=("created_at",)),
        C("reopen_count", "integer", default=0, min=0),
        C("agent_replies", "integer", min=0),
        C("agents_involved", "integer", min=1),
        C("fcr_eligible", "boolean", default=True),
        C("escalated_at", TS, not_before=("created_at",)),
        C("excluded", "boolean", default=False),
    ),
    time="created_at",
    later=("first_response_at", "resolved_at", "escalated_at"),
    customer_link=True,
)

MESSAGES = Table(
    "messages",
    ("message_id",),
    (
        C("message_id", required=True),
        C("ticket_id", required=True),
        C("sent_at", TS, required=True),
        C("author", E, required=True, allowed=("customer", "agent", "bot", "system")),
        C("agent_id"),
        C("public", "boolean", default=True),
    ),
    time="sent_at",
    ticket_link=True,
)

CALLS = Table(
    "calls",
    ("call_id",),
    (
        C("call_id", required=True),
        C("entered_at", TS, required=True),
        C("answered_at", TS, not_before=("entered_at",)),
        C("ended_at", TS, not_before=("entered_at", "answered_at")),
        C("outcome", E, allowed=("answered", "abandoned", "timeout", "exit_empty", "exit_key", "transferred")),
        C("queue"),
        C("channel", E, default="phone", allowed=("phone", "chat")),
        C("customer_id"),
        C("agent_id"),
        C("talk_seconds", "number", default=0, min=0),
        C("hold_seconds", "number", default=0, min=0),
        C("wrap_seconds", "number", default=0, min=0),
        C("resolved", "boolean"),
        C("ticket_id"),
    ),
    time="entered_at",
    later=("answered_at", "ended_at"),
    ticket_link=True,
    customer_link=True,
)

AGENT_SESSIONS = Table(
    "agent_sessions",
    ("agent_id", "login_at"),
    (
        C("agent_id", required=True),
        C("login_at", TS, required=True),
        C("logout_at", TS, not_before=("login_at",)),
        C("queue"),
    ),
    time="login_at",
    later=("logout_at",),
)

SURVEYS = Table(
    "surveys",
    ("response_id",),
    (
        C("response_id", required=True),
        C("survey", E, required=True, allowed=("csat", "nps", "ces")),
        C("score", "number", required=True),
        C("scale_min", "number"),
        C("scale_max", "number"),
        C("responded_at", TS, required=True),
        C("ticket_id"),
        C("customer_id"),
        C("agent_id"),
        C("channel", E),
        C("comment"),
    ),
    time="responded_at",
    ticket_link=True,
    customer_link=True,
)

# default survey scales: (min, max)
SURVEY_SCALES = {"csat": (1, 5), "nps": (0, 10), "ces": (1, 7)}

CUSTOMERS = Table(
    "customers",
    ("customer_id",),
    (
        C("customer_id", required=True),
        C("acquired_at", TS, required=True),
        C("churned_at", TS, not_before=("acquired_at",)),
        C("tier", E),
        C("persona"),
        C("acquisition_channel", E),
        C("referred_by"),
    ),
    time="acquired_at",
    later=("churned_at",),
)

ORDERS = Table(
    "orders",
    ("order_id",),
    (
        C("order_id", required=True),
        C("customer_id", required=True),
        C("ordered_at", TS, required=True),
        C("amount", "number", required=True, min=0),
        C("gross_margin", "number", min=0, max=1),
    ),
    time="ordered_at",
    customer_link=True,
)

SPEND = Table(
    "spend",
    ("period_start", "period_end", "kind"),
    (
        C("period_start", "date", required=True),
        C("period_end", "date", required=True, not_before=("period_start",)),
        C("amount", "number", required=True, min=0),
        C("kind", E, required=True, allowed=("sales", "marketing")),
    ),
    time="period_start",
)

SELF_SERVICE = Table(
    "self_service",
    ("event_id",),
    (
        C("event_id", required=True),
        C("occurred_at", TS, required=True),
        C("kind", E, required=True, allowed=(
            "kb_view", "article_helpful", "article_not_helpful",
            "bot_resolved", "ivr_resolved", "bot_escalated")),
        C("customer_id"),
        C("channel", E),
    ),
    time="occurred_at",
    customer_link=True,
)

FEEDBACK = Table(
    "feedback",
    ("feedback_id",),
    (
        C("feedback_id", required=True),
        C("received_at", TS, required=True),
        C("source", E),
        C("text"),
        C("customer_id"),
        C("replied_at", TS, not_before=("received_at",)),
    ),
    time="received_at",
    later=("replied_at",),
    customer_link=True,
)

QUALITY_REVIEWS = Table(
    "quality_reviews",
    ("review_id", "criterion"),
    (
        C("review_id", required=True),
        C("ticket_id"),
        C("agent_id"),
        C("reviewed_at", TS, required=True),
        C("criterion", E, required=True),
        C("score", "number", required=True, min=0),
        C("max_score", "number", required=True, min=0, min_exclusive=True),
    ),
    time="reviewed_at",
    ticket_link=True,
)

ACTIVITY = Table(
    "activity",
    ("customer_id", "occurred_at", "kind"),
    (
        C("customer_id", required=True),
        C("occurred_at", TS, required=True),
        C("kind", E, required=True),
        C("value", "number", default=1),
    ),
    time="occurred_at",
    customer_link=True,
)

# import order matters: messages check their ticket
TABLES: dict[str, Table] = {t.name: t for t in (
    TICKETS, MESSAGES, CALLS, AGENT_SESSIONS, SURVEYS, CUSTOMERS, ORDERS,
    SPEND, SELF_SERVICE, FEEDBACK, QUALITY_REVIEWS, ACTIVITY)}

FORMATS = ("csv", "jsonl", "json", "parquet", "xlsx")

SQL_TYPES = {
    "string": "VARCHAR", "enum": "VARCHAR", "timestamp": "TIMESTAMP",
    "date": "DATE", "integer": "BIGINT", "number": "DOUBLE", "boolean": "BOOLEAN",
}
