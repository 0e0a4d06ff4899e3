"""Each kind of policy mistake gets a precise message: file, line, path, nearest valid id."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from mamori.errors import PolicyError, Problem
from mamori.policy.loader import parse_policy

MINIMAL = (Path(__file__).parent / "data" / "minimal.yaml").read_text(encoding="utf-8")


@dataclass(frozen=True)
class Case:
    old: str
    new: str
    path: str
    message: str
    anchor: str  # the expected line is the first line of the broken text containing this


def _line_of(text: str, anchor: str) -> int:
    index = text.find(anchor)
    assert index >= 0, f"anchor {anchor!r} not in the document"
    return text.count("\n", 0, index) + 1


CASES = {
    "unknown item in a purpose": Case(
        "items: [email, usage_history]",
        "items: [emial, usage_history]",
        "purposes[0].items[0]",
        "unknown data item 'emial' (did you mean 'email'?)",
        "[emial",
    ),
    "duplicate id": Case(
        "  - id: usage_history\n",
        "  - id: email\n",
        "items[1].id",
        "duplicate data item id 'email' (already used by items[0])",
        "  - id: email\n    label: {ja: サービス利用履歴",
    ),
    "purpose with no items": Case(
        "    statistics_only: true\n    items: [usage_history]",
        "    statistics_only: true\n    items: []",
        "purposes[1].items",
        "purpose 'statistics' allows no data item",
        "items: []",
    ),
    "item with no purpose": Case(
        "purpose_section:",
        "  - id: fax\n    label: {ja: FAX番号, en: Fax number}\n    category: contact\n"
        "    source: provided\n    subjects: [customer]\npurpose_section:",
        "items[2].id",
        "data item 'fax' is not allowed for any purpose",
        "- id: fax",
    ),
    "actions on an item that is not events": Case(
        "    kind: email\n",
        "    kind: email\n    actions: {login: {ja: ログイン, en: Signing in}}\n",
        "items[0]",
        "actions: only an item of kind 'events' names actions",
        "  - id: email\n",
    ),
    "cookie without a category": Case(
        "      category: analytics\n",
        "",
        "cookies.services[0].category",
        "cookie service 'google_analytics' has no consent category: give one of necessary, "
        "analytics",
        "- id: google_analytics",
    ),
    "unknown cookie category": Case(
        "      category: analytics\n",
        "      category: analytic\n",
        "cookies.services[0].category",
        "unknown cookie category 'analytic' (did you mean 'analytics'?)",
        "category: analytic",
    ),
    "joint use without the responsible party's address": Case(
        '      address: {ja: 東京都千代田区1-1, en: "1-1 Chiyoda, Tokyo"}\n      representative',
        "      representative",
        "joint_use[0].responsible.address",
        "joint use must state the responsible party's address ('address'), as APPI 27(5)(iii) "
        "requires",
        "    responsible:",
    ),
    "joint use without its users": Case(
        "    users: [{ja: 販売代理店, en: Sales agents}]\n",
        "",
        "joint_use[0].users",
        "joint use must state the scope of the joint users ('users'), as APPI 27(5)(iii) requires",
        "  - id: partners",
    ),
    "foreign provider without a country": Case(
        "provider: {name: {ja: Google Inc., en: Google Inc.}, country: US}",
        "provider: {name: {ja: Google Inc., en: Google Inc.}}",
        "cookies.services[0].provider.country",
        "provider 'Google Inc.' has no country",
        "provider: {name:",
    ),
    "malformed URL": Case(
        "privacy_policy_url: https://policies.google.com/privacy",
        "privacy_policy_url: policies.google.com/privacy",
        "cookies.services[0].privacy_policy_url",
        "malformed URL 'policies.google.com/privacy'",
        "privacy_policy_url:",
    ),
    "malformed opt-out URL": Case(
        "opt_out: https://tools.google.com/dlpage/gaoptout?hl=ja",
        "opt_out: htps://tools.google.com",
        "cookies.services[0].opt_out",
        "malformed URL 'htps://tools.google.com'",
        "opt_out:",
    ),
    "dates out of order": Case(
        "{date: 2024-10-29,",
        "{date: 2021-01-01,",
        "revisions[1].date",
        "revision date 2021-01-01 is not after the one before it (2022-07-01, revisions[0])",
        "2021-01-01",
    ),
    "unknown data subject": Case(
        "    kind: events\n    source: collected\n    subjects: [customer]",
        "    kind: events\n    source: collected\n    subjects: [custmer]",
        "items[1].subjects[0]",
        "unknown data subject 'custmer' (did you mean 'customer'?)",
        "[custmer]",
    ),
    "missing English text": Case(
        "title: {ja: プライバシーポリシー, en: Privacy Policy}",
        "title: {ja: プライバシーポリシー}",
        "title.en",
        "missing English text ('en')",
        "title:",
    ),
    "mistyped key": Case(
        "  basic_policy:",
        "  basic_polcy:",
        "security.basic_polcy",
        "unknown key 'basic_polcy' (did you mean 'basic_policy'?)",
        "basic_polcy",
    ),
    "invalid enum value": Case(
        "    kind: email\n    source: provided",
        "    kind: email\n    source: provded",
        "items[0].source",
        "input should be 'provided', 'linked_service' or 'collected' (got 'provded')",
        "source: provded",
    ),
    "unknown value kind": Case(
        "    kind: email\n    source: provided",
        "    kind: emial\n    source: provided",
        "items[0].kind",
        "unknown value kind 'emial' (did you mean 'email'?); kinds: text, url, name, email",
        "kind: emial",
    ),
    "unknown kind among several": Case(
        "    kind: email\n    source: provided",
        "    kinds: [text, urll, document]\n    source: provided",
        "items[0].kinds[1]",
        "unknown value kind 'urll' (did you mean 'url'?)",
        "kinds: [text, urll",
    ),
    "kind and kinds both": Case(
        "    kind: email\n    source: provided",
        "    kind: email\n    kinds: [text, url]\n    source: provided",
        "items[0].kinds",
        "give either kind (one kind) or kinds (several), not both",
        "kinds: [text, url]",
    ),
    "no kinds": Case(
        "    kind: email\n    source: provided",
        "    kinds: []\n    source: provided",
        "items[0].kinds",
        "list at least one kind",
        "kinds: []",
    ),
    "kind listed twice": Case(
        "    kind: email\n    source: provided",
        "    kinds: [text, url, text]\n    source: provided",
        "items[0].kinds[2]",
        "kind 'text' is listed twice",
        "kinds: [text, url, text]",
    ),
    "kind that cannot be combined": Case(
        "    kind: email\n    source: provided",
        "    kinds: [email, text]\n    source: provided",
        "items[0].kinds[0]",
        "kind 'email' cannot be combined with other kinds: give it alone as kind: email",
        "kinds: [email, text]",
    ),
    "invalid id": Case(
        "id: minimal\n",
        "id: Minimal-Policy\n",
        "id",
        "invalid id 'Minimal-Policy': use lower-case ASCII letters",
        "id: Minimal",
    ),
    "duplicate key": Case(
        "id: minimal\n",
        "id: minimal\nid: other\n",
        "id",
        "duplicate key 'id' (first given on line 3)",
        "id: other",
    ),
    "unknown business line": Case(
        "    group: service_provision\n    items: [email, usage_history]",
        "    group: service_provision\n    business_lines: [webb]\n"
        "    items: [email, usage_history]",
        "purposes[0].business_lines[0]",
        "unknown business line 'webb' (did you mean 'web'?)",
        "[webb]",
    ),
}


def _problems(text: str) -> tuple[Problem, ...]:
    with pytest.raises(PolicyError) as caught:
        parse_policy(text, "policy.yaml")
    return caught.value.problems


def test_the_minimal_policy_is_valid() -> None:
    policy = parse_policy(MINIMAL, "policy.yaml")
    assert [p.id for p in policy.purposes] == ["service", "statistics"]


@pytest.mark.parametrize("case", CASES.values(), ids=list(CASES))
def test_each_mistake_is_located_and_explained(case: Case) -> None:
    assert MINIMAL.count(case.old) == 1, "the test's edit must hit exactly one place"
    text = MINIMAL.replace(case.old, case.new)
    problems = _problems(text)
    matching = [p for p in problems if p.path == case.path]
    assert matching, f"no problem at {case.path}; got {[str(p) for p in problems]}"
    problem = matching[0]
    assert case.message in problem.message
    assert problem.file == "policy.yaml"
    assert problem.line == _line_of(text, case.anchor)
    assert str(problem).startswith(f"policy.yaml:{problem.line}: {case.path}: ")


def test_an_item_may_allow_several_kinds() -> None:
    text = MINIMAL.replace(
        "    kind: email\n    source: provided", "    kinds: [text, url]\n    source: provided"
    )
    item = parse_policy(text, "policy.yaml").item("email")
    assert item.kind.value == "text"
    assert [k.value for k in item.value_kinds] == ["text", "url"]
    assert item.several_kinds
    assert not parse_policy(MINIMAL, "policy.yaml").item("email").several_kinds


def test_yaml_syntax_error_names_the_line() -> None:
    text = MINIMAL.replace("items: [email, usage_history]", "items: [email, usage_history")
    (problem,) = _problems(text)
    assert problem.message.startswith("YAML syntax error:")
    assert problem.line is not None
    assert abs(problem.line - _line_of(text, "[email, usage_history")) <= 2


def test_every_problem_is_reported_not_just_the_first() -> None:
    text = MINIMAL
    for name in (
        "unknown item in a purpose",
        "malformed URL",
        "dates out of order",
        "joint use without its users",
    ):
        case = CASES[name]
        text = text.replace(case.old, case.new)
    paths = {p.path for p in _problems(text)}
    assert {
        "purposes[0].items[0]",
        "cookies.services[0].privacy_policy_url",
        "revisions[1].date",
        "joint_use[0].users",
    } <= paths


def test_problems_are_sorted_by_line() -> None:
    text = MINIMAL.replace("{date: 2024-10-29,", "{date: 2021-01-01,").replace(
        "id: minimal\n", "id: Bad\n"
    )
    lines = [p.line or 0 for p in _problems(text)]
    assert lines == sorted(lines)


@pytest.mark.parametrize("text", ["", "- a\n- b\n", "just text\n"])
def test_a_document_that_is_not_a_mapping(text: str) -> None:
    (problem,) = _problems(text)
    assert problem.message == "a policy must be a YAML mapping of keys"


def test_policy_error_message_never_holds_a_traceback() -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy("a: [", "p.yaml")
    assert "Traceback" not in str(caught.value)
    assert str(caught.value).startswith("1 problem in the policy: p.yaml:")
