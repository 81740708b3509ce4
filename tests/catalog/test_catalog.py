"""The catalog is complete: every KPI of the contract, texts in four languages, docs up to date."""
import re
from pathlib import Path

import pytest

from servicekpi.catalog import LANGS, catalog, texts
from servicekpi.catalog.docs import kpi_reference
from servicekpi.catalog.kpi import UNITS

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "docs" / "kpi-contract.md"  # a copy of the shared contract
# the contract's ids (kpis.md tables); feedback_sentiment arrives with the operations issue
CONTRACT = {
    "ticket_volume", "avg_ticket_count", "backlog", "backlog_overdue", "first_response_time",
    "avg_response_time", "avg_resolution_time", "complaint_resolution_time", "resolution_rate",
    "resolved_unresolved_ratio", "fcr_rate", "single_agent_resolution_rate", "interactions_per_ticket",
    "channel_share", "category_volume", "self_service_rate", "kb_helpfulness", "calls_offered",
    "answered_call_rate", "abandonment_rate", "call_service_level", "avg_wait_time", "aht",
    "first_call_resolution", "occupancy", "csat", "csat_mean", "nps", "ces", "ces_agree", "crr",
    "churn_rate", "new_customers", "cac", "repurchase_rate", "referral_rate", "clv", "engagement_score",
    "iqs", "feedback_response_rate",
}


def test_every_contract_kpi_is_in_the_catalog():
    assert CONTRACT - set(catalog().kpis) == set()


def test_contract_list_matches_the_spec():
    ids = set(re.findall(r"^\| ([a-z_]+) \|", SPEC.read_text(encoding="utf-8"), re.M)) - {"id"}
    assert ids - {"feedback_sentiment"} <= CONTRACT | set(catalog().kpis)


@pytest.mark.parametrize("kid", sorted(catalog().kpis))
@pytest.mark.parametrize("field", ["label", "definition", "formula"])
def test_every_language_has_the_kpi_text(kid, field):
    entry = texts()["kpi"].get(kid, {}).get(field, {})
    missing = [lang for lang in LANGS if not entry.get(lang, "").strip()]
    assert missing == [], f"{kid}.{field} lacks {missing}"


@pytest.mark.parametrize("unit", UNITS)
def test_every_unit_has_labels(unit):
    assert all(texts()["unit"][unit]["label"].get(lang) for lang in LANGS)


def test_headline_names_follow_the_spec():
    # established terms from kpis.md "Names in the four languages"
    assert texts()["kpi"]["nps"]["label"]["zh"] == "净推荐值 (NPS)"
    assert texts()["kpi"]["backlog"]["label"]["ro"] == "Tichete restante"
    assert texts()["kpi"]["aht"]["label"]["th"] == "เวลาในการจัดการโดยเฉลี่ย (AHT)"


def test_docs_reference_is_up_to_date():
    # regenerate with: servicekpi docs docs/kpis.md
    assert (ROOT / "docs" / "kpis.md").read_text(encoding="utf-8") == kpi_reference()


def test_every_kpi_declares_unit_direction_and_tables():
    for k in catalog().kpis.values():
        assert k.unit in UNITS and k.direction in ("higher", "lower", "neutral") and k.tables

