import datetime

from ninja import Schema

from .selectors import colour


class ProcessOut(Schema):
    code: str
    version: int
    name: str
    definition: dict
    created_at: datetime.datetime


class ProcessIn(Schema):
    code: str
    name: str
    definition: dict


class TaskOut(Schema):
    id: int
    step_key: str
    name: str
    department: str
    role: str
    status: str
    escalated: bool
    due_on: datetime.date | None
    instance_title: str
    subject: str
    instance_due_on: datetime.date
    colour: str

    @staticmethod
    def resolve_department(obj):
        return obj.department.name

    @staticmethod
    def resolve_instance_title(obj):
        return obj.instance.title

    @staticmethod
    def resolve_subject(obj):
        return obj.instance.subject

    @staticmethod
    def resolve_instance_due_on(obj):
        return obj.instance.due_on

    @staticmethod
    def resolve_colour(obj):
        return colour(obj.instance)


class ReassignIn(Schema):
    username: str


class EscalateIn(Schema):
    reason: str
