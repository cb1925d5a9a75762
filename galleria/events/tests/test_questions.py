"""Registration questions: the console adds them (text, one choice, several choices, required); members' answers are
checked and kept per registration as asked; the privacy export has them; erasure blanks the free-text ones."""

from __future__ import annotations

import pytest

from galleria.events import exceptions, rules, services
from galleria.events.models import Registration
from galleria.events.selectors_privacy import member_export_sections
from galleria.events.types import QuestionIn, QuestionSpec

from .helpers import ACTOR, event, member, register

pytestmark = pytest.mark.django_db

SPECS = [
    QuestionSpec(1, "孩子年龄", "text", (), True),
    QuestionSpec(2, "场次", "single", ("上午", "下午"), True),
    QuestionSpec(3, "过敏", "multiple", ("坚果", "乳制品", "鸡蛋"), False),
]


def test_answers_are_checked_against_the_questions():
    answers, errors = rules.clean_answers(SPECS, {"q1": ["5 岁"], "q2": ["下午"], "q3": ["鸡蛋", "坚果"]})
    assert errors == {}
    assert [a["value"] for a in answers] == ["5 岁", "下午", ["坚果", "鸡蛋"]]  # the question's order
    _, errors = rules.clean_answers(SPECS, {"q1": [" "], "q2": ["晚上"], "q3": ["海鲜"]})
    assert set(errors) == {"q1", "q2", "q3"}
    _, errors = rules.clean_answers(SPECS, {"q1": ["x" * 501], "q2": ["上午", "下午"]})
    assert set(errors) == {"q1", "q2"}
    answers, errors = rules.clean_answers(SPECS[2:], {})
    assert errors == {} and answers == [{"question_id": 3, "label": "过敏", "kind": "multiple", "value": []}]


def test_question_rules():
    assert "choices" in rules.question_problems(QuestionIn(label="场次", kind="single", choices=("上午",)))
    assert "choices" in rules.question_problems(QuestionIn(label="场次", kind="single", choices=("上午", "上午")))
    assert "label" in rules.question_problems(QuestionIn(label=" "))
    assert rules.question_problems(QuestionIn(label="场次", kind="multiple", choices=("上午", "下午"))) == {}


def test_members_answer_when_registering_and_the_answers_stay_as_asked(world):
    ev = event(world)
    age = services.question_save(
        mall_group_id=world.group.pk, event_id=ev.pk, data=QuestionIn(label="孩子年龄", required=True), actor=ACTOR
    )
    slot = services.question_save(
        mall_group_id=world.group.pk,
        event_id=ev.pk,
        data=QuestionIn(label="场次", kind="single", choices=("上午", "下午")),
        actor=ACTOR,
    )
    m = member(world)
    with pytest.raises(exceptions.AnswersInvalidError) as err:
        register(world, m, ev, answers={f"q{slot.pk}": ["上午"]})
    assert set(err.value.fields) == {f"q{age.pk}"}
    assert not Registration.objects.exists()

    reg = register(world, m, ev, answers={f"q{age.pk}": ["6 岁"], f"q{slot.pk}": ["下午"]})
    assert [(a["label"], a["value"]) for a in reg.answers] == [("孩子年龄", "6 岁"), ("场次", "下午")]
    services.question_delete(mall_group_id=world.group.pk, event_id=ev.pk, question_id=age.pk, actor=ACTOR)
    assert len(Registration.objects.get(pk=reg.pk).answers) == 2  # answers given stay
    with pytest.raises(exceptions.QuestionNotFoundError):
        services.question_delete(mall_group_id=world.group.pk, event_id=ev.pk, question_id=age.pk, actor=ACTOR)


def test_privacy_export_has_the_answers_and_erasure_blanks_free_text(world):
    ev = event(world)
    age = services.question_save(
        mall_group_id=world.group.pk, event_id=ev.pk, data=QuestionIn(label="孩子年龄"), actor=ACTOR
    )
    slot = services.question_save(
        mall_group_id=world.group.pk,
        event_id=ev.pk,
        data=QuestionIn(label="场次", kind="single", choices=("上午", "下午")),
        actor=ACTOR,
    )
    m, other = member(world), member(world)
    register(world, m, ev, answers={f"q{age.pk}": ["小明 6 岁"], f"q{slot.pk}": ["上午"]})
    register(world, other, ev, answers={f"q{age.pk}": ["4 岁"]})
    rows = member_export_sections(member_id=m.pk, mall_group_id=world.group.pk)["event_registrations"]
    assert rows[0]["answers"] == [
        {"question": "孩子年龄", "answer": "小明 6 岁"},
        {"question": "场次", "answer": "上午"},
    ]

    assert services.member_erase_in_tx(member_id=m.pk, mall_group_id=world.group.pk, phone="", values=[]) == 1
    kept = Registration.objects.get(member=m).answers
    assert [a["value"] for a in kept] == ["", "上午"]  # the free text is gone, the choice stays
    assert Registration.objects.get(member=other).answers[0]["value"] == "4 岁"  # nobody else's
    assert services.member_erase_in_tx(member_id=m.pk, mall_group_id=world.group.pk, phone="", values=[]) == 0
