"""出入境智慧大厅: halls, windows and duty rosters, appointment slots and bookings, queue tickets, the
announcement queue, the hall's event log and document lockers.

The applications themselves (护照、往来港澳通行证…) are one-stop cases (``onestop.Application``) on the
shared workflow; the hall only adds the visit around them.
"""

import datetime

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from smartgov.core.models import TimeStampedModel


class Hall(TimeStampedModel):
    """出入境大厅, with its working plan and booking/queue rules. Open on the core working-day calendar
    (工作日; or every day with ``open_non_workdays``, as halls with 周末办证 are) between ``opens`` and
    ``closes``, minus the lunch break."""

    department = models.ForeignKey("accounts.Department", verbose_name="所属部门", on_delete=models.PROTECT,
                                   related_name="halls")
    code = models.CharField("大厅编码", max_length=32, unique=True)
    name = models.CharField("大厅名称", max_length=100)
    address = models.CharField("地址", max_length=200, blank=True)
    opens = models.TimeField("开门时间", default=datetime.time(9, 0))
    closes = models.TimeField("关门时间", default=datetime.time(17, 0))
    break_start = models.TimeField("午休开始", null=True, blank=True, default=datetime.time(12, 0))
    break_end = models.TimeField("午休结束", null=True, blank=True, default=datetime.time(13, 30))
    open_non_workdays = models.BooleanField("节假日及周末照常开放", default=False)
    slot_minutes = models.PositiveSmallIntegerField("预约时段（分钟）", default=30)
    lead_minutes = models.PositiveIntegerField("最短提前预约（分钟）", default=60)
    horizon_days = models.PositiveSmallIntegerField("可预约天数", default=14)
    cancel_minutes = models.PositiveIntegerField("取消截止（时段开始前分钟）", default=120)
    no_show_limit = models.PositiveSmallIntegerField("爽约次数上限", default=3)
    no_show_window_days = models.PositiveSmallIntegerField("爽约统计期（天）", default=90)
    ban_days = models.PositiveSmallIntegerField("爽约暂停预约（天）", default=30)
    early_minutes = models.PositiveSmallIntegerField("可提前到达（分钟）", default=30)
    late_minutes = models.PositiveSmallIntegerField("可迟到（分钟）", default=15)
    max_calls = models.PositiveSmallIntegerField("过号前叫号次数", default=3)
    green_head_start = models.PositiveSmallIntegerField("绿色通道优先（分钟）", default=20)
    appointment_head_start = models.PositiveSmallIntegerField("准时预约优先（分钟）", default=10)
    locker_hold_days = models.PositiveSmallIntegerField("柜内保管（天）", default=7)
    target_wait_minutes = models.PositiveSmallIntegerField("目标等候（分钟）", default=10)
    target_service_level = models.FloatField("目标服务水平", default=0.8)
    # The announcement clock: when the last scheduled announcement ends (µs since the epoch). Each call
    # moves it on in one UPDATE … RETURNING, which also orders the hall's calls (services/queue.py).
    announced_until_us = models.BigIntegerField("播报排至（微秒）", default=0, db_default=0, editable=False)

    class Meta:
        ordering = ["code"]
        verbose_name = verbose_name_plural = "出入境大厅"

    def __str__(self):
        return self.name


class HallService(TimeStampedModel):
    """A service offered in the hall (护照、港澳通行证…), its queue letter, the one-stop item it files, mean
    service time, appointments per slot and the mean patience (for Erlang A)."""

    hall = models.ForeignKey(Hall, verbose_name="大厅", on_delete=models.CASCADE, related_name="services")
    code = models.CharField("叫号字母", max_length=2)
    name = models.CharField("业务名称", max_length=100)
    item = models.ForeignKey("onestop.ServiceItem", verbose_name="政务服务事项", null=True, blank=True,
                             on_delete=models.PROTECT, related_name="+")
    mean_service_minutes = models.FloatField("平均办理时长（分钟）", default=8.0)
    slot_capacity = models.PositiveSmallIntegerField("每时段预约名额", default=4)
    patience_minutes = models.FloatField("平均耐心（分钟）", default=30.0)

    class Meta:
        ordering = ["hall", "code"]
        verbose_name = verbose_name_plural = "大厅业务"
        constraints = [models.UniqueConstraint(fields=["hall", "code"], name="hall_service_unique_code")]

    def __str__(self):
        return f"{self.code} {self.name}"


class Window(TimeStampedModel):
    hall = models.ForeignKey(Hall, verbose_name="大厅", on_delete=models.CASCADE, related_name="windows")
    number = models.PositiveSmallIntegerField("窗口号")
    name = models.CharField("窗口名称", max_length=60, blank=True)
    services = models.ManyToManyField(HallService, verbose_name="受理业务", related_name="windows")
    active = models.BooleanField("启用", default=True)

    class Meta:
        ordering = ["hall", "number"]
        verbose_name = verbose_name_plural = "窗口"
        constraints = [models.UniqueConstraint(fields=["hall", "number"], name="hall_window_unique_number")]

    def __str__(self):
        return f"{self.number}号窗口"


class Duty(TimeStampedModel):
    """排班: one officer at one window on one working day."""

    window = models.ForeignKey(Window, verbose_name="窗口", on_delete=models.CASCADE, related_name="duties")
    officer = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="值班人员", on_delete=models.PROTECT,
                                related_name="hall_duties")
    day = models.DateField("日期")

    class Meta:
        ordering = ["day", "window"]
        verbose_name = verbose_name_plural = "排班"
        constraints = [models.UniqueConstraint(fields=["window", "day"], name="hall_duty_one_per_window"),
                       models.UniqueConstraint(fields=["officer", "day"], name="hall_duty_one_per_officer")]


class Slot(models.Model):
    """A bookable time slot of one service. ``booked`` never exceeds ``capacity``: booking is one conditional
    UPDATE (``booked < capacity``), and the database refuses the row otherwise (the check constraint)."""

    service = models.ForeignKey(HallService, verbose_name="业务", on_delete=models.CASCADE, related_name="slots")
    starts_at = models.DateTimeField("开始时间")
    ends_at = models.DateTimeField("结束时间")
    capacity = models.PositiveSmallIntegerField("名额")
    booked = models.PositiveSmallIntegerField("已约", default=0)

    class Meta:
        ordering = ["starts_at"]
        verbose_name = verbose_name_plural = "预约时段"
        constraints = [models.UniqueConstraint(fields=["service", "starts_at"], name="hall_slot_unique_start"),
                       models.CheckConstraint(condition=Q(booked__lte=F("capacity")), name="hall_slot_not_overbooked")]

    def __str__(self):
        return f"{self.starts_at:%Y-%m-%d %H:%M}"


class AppointmentStatus(models.TextChoices):
    BOOKED = "booked", "已预约"
    CANCELLED = "cancelled", "已取消"
    ARRIVED = "arrived", "已到场"
    NO_SHOW = "no_show", "爽约"


class Appointment(TimeStampedModel):
    hall = models.ForeignKey(Hall, verbose_name="大厅", on_delete=models.PROTECT, related_name="appointments")
    service = models.ForeignKey(HallService, verbose_name="业务", on_delete=models.PROTECT,
                                related_name="appointments")
    slot = models.ForeignKey(Slot, verbose_name="时段", on_delete=models.PROTECT, related_name="appointments")
    person = models.ForeignKey("identity.Person", verbose_name="预约人", on_delete=models.PROTECT,
                               related_name="hall_appointments")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="预约账号", null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="hall_appointments")
    number = models.CharField("预约号", max_length=20, unique=True)
    token = models.CharField("二维码凭证", max_length=40, unique=True)
    status = models.CharField("状态", max_length=12, choices=AppointmentStatus.choices,
                              default=AppointmentStatus.BOOKED)
    cancelled_at = models.DateTimeField("取消时间", null=True, blank=True)
    arrived_at = models.DateTimeField("到场时间", null=True, blank=True)

    class Meta:
        ordering = ["slot__starts_at"]
        verbose_name = verbose_name_plural = "预约"
        constraints = [models.UniqueConstraint(fields=["person", "service"], condition=Q(status="booked"),
                                               name="hall_one_active_booking")]
        indexes = [models.Index(fields=["hall", "status"])]


class Priority(models.TextChoices):
    GREEN = "green", "绿色通道"
    APPOINTMENT = "appointment", "预约准时"
    WALK_IN = "walk_in", "现场取号"


class TicketSource(models.TextChoices):
    APPOINTMENT = "appointment", "预约二维码"
    EID = "eid", "EID二维码"
    WALK_IN = "walk_in", "现场取号"


class TicketStatus(models.TextChoices):
    WAITING = "waiting", "等候中"
    CALLED = "called", "已叫号"
    DONE = "done", "已办结"
    NO_SHOW = "no_show", "过号"


class Ticket(models.Model):
    """排队号. ``order_key`` is the ticket's virtual arrival time — issue time minus its class's head start —
    and the queue is served in ``order_key`` order (the fairness rule in docs/hall.md)."""

    hall = models.ForeignKey(Hall, verbose_name="大厅", on_delete=models.PROTECT, related_name="tickets")
    service = models.ForeignKey(HallService, verbose_name="业务", on_delete=models.PROTECT, related_name="tickets")
    day = models.DateField("日期")
    seq = models.PositiveIntegerField("序号")
    number = models.CharField("号码", max_length=8)
    source = models.CharField("来源", max_length=12, choices=TicketSource.choices)
    priority = models.CharField("优先级", max_length=12, choices=Priority.choices)
    order_key = models.DateTimeField("排序时刻")
    appointment = models.OneToOneField(Appointment, verbose_name="预约", null=True, blank=True,
                                       on_delete=models.PROTECT, related_name="ticket")
    person = models.ForeignKey("identity.Person", verbose_name="办事人", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="hall_tickets")
    status = models.CharField("状态", max_length=10, choices=TicketStatus.choices, default=TicketStatus.WAITING)
    calls = models.PositiveSmallIntegerField("叫号次数", default=0)
    window = models.ForeignKey(Window, verbose_name="窗口", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="tickets")
    target_window = models.ForeignKey(Window, verbose_name="转至窗口", null=True, blank=True,
                                      on_delete=models.PROTECT, related_name="transferred_tickets")
    issued_at = models.DateTimeField("取号时间")
    called_at = models.DateTimeField("叫号时间", null=True, blank=True)
    finished_at = models.DateTimeField("办结时间", null=True, blank=True)
    token = models.CharField("个人页面凭证", max_length=40, unique=True)
    application = models.ForeignKey("onestop.Application", verbose_name="办件", null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    grade = models.PositiveSmallIntegerField("评价", null=True, blank=True)

    class Meta:
        ordering = ["order_key", "id"]
        verbose_name = verbose_name_plural = "排队号"
        constraints = [models.UniqueConstraint(fields=["hall", "day", "number"], name="hall_ticket_unique_number")]
        indexes = [models.Index(fields=["hall", "day", "status", "order_key"]),
                   models.Index(fields=["window", "status"])]

    def __str__(self):
        return self.number


class TicketCounter(models.Model):
    """The last ticket number given for one service on one day: one upsert (``INSERT … ON CONFLICT DO
    UPDATE … RETURNING``) numbers a ticket, instead of a hall lock and a ``MAX(seq)`` scan."""

    service = models.ForeignKey(HallService, verbose_name="业务", on_delete=models.CASCADE, related_name="+")
    day = models.DateField("日期")
    last = models.PositiveIntegerField("已发序号")

    class Meta:
        verbose_name = verbose_name_plural = "取号计数"
        constraints = [models.UniqueConstraint(fields=["service", "day"], name="hall_counter_unique_day")]

    def __str__(self):
        return f"{self.day} #{self.last}"


class Announcement(models.Model):
    """One spoken call (TTS text). ``speak_at`` is scheduled so two announcements of a hall never overlap:
    each starts when the previous one has ended."""

    hall = models.ForeignKey(Hall, verbose_name="大厅", on_delete=models.CASCADE, related_name="announcements")
    ticket = models.ForeignKey(Ticket, verbose_name="排队号", on_delete=models.CASCADE, related_name="announcements")
    window = models.ForeignKey(Window, verbose_name="窗口", on_delete=models.CASCADE, related_name="+")
    text = models.CharField("播报内容", max_length=200)
    speak_at = models.DateTimeField("播报时刻")
    seconds = models.FloatField("时长（秒）")

    class Meta:
        ordering = ["speak_at"]
        verbose_name = verbose_name_plural = "叫号播报"

    def __str__(self):
        return self.text

    @property
    def ends_at(self):
        return self.speak_at + datetime.timedelta(seconds=self.seconds)


class HallEvent(models.Model):
    """The hall's event log (大厅事件): every ticket, call, recall, skip, transfer, finish, locker action.
    Live pages follow it by id."""

    hall = models.ForeignKey(Hall, verbose_name="大厅", on_delete=models.CASCADE, related_name="events")
    kind = models.CharField("事件", max_length=30)
    data = models.JSONField("内容", default=dict)
    at = models.DateTimeField("时间")

    class Meta:
        ordering = ["id"]
        verbose_name = verbose_name_plural = "大厅事件"
        indexes = [models.Index(fields=["hall", "id"])]

    def __str__(self):
        return f"{self.kind} #{self.pk}"


class Locker(models.Model):
    hall = models.ForeignKey(Hall, verbose_name="大厅", on_delete=models.CASCADE, related_name="lockers")
    code = models.CharField("柜格号", max_length=12)
    active = models.BooleanField("启用", default=True)

    class Meta:
        ordering = ["hall", "code"]
        verbose_name = verbose_name_plural = "自助取证柜格"
        constraints = [models.UniqueConstraint(fields=["hall", "code"], name="hall_locker_unique_code")]

    def __str__(self):
        return self.code


class LockerStatus(models.TextChoices):
    STORED = "stored", "待取"
    COLLECTED = "collected", "已取"
    RETURNED = "returned", "逾期退回窗口"


class LockerItem(TimeStampedModel):
    """An issued document in a locker, waiting for its holder's pickup code."""

    locker = models.ForeignKey(Locker, verbose_name="柜格", on_delete=models.PROTECT, related_name="items")
    application = models.ForeignKey("onestop.Application", verbose_name="办件", on_delete=models.PROTECT,
                                    related_name="+")
    person = models.ForeignKey("identity.Person", verbose_name="领取人", on_delete=models.PROTECT,
                               related_name="+")
    code_hash = models.CharField("取件码摘要", max_length=64)
    status = models.CharField("状态", max_length=10, choices=LockerStatus.choices, default=LockerStatus.STORED)
    due_at = models.DateTimeField("保管截止")
    collected_at = models.DateTimeField("取件时间", null=True, blank=True)
    returned_at = models.DateTimeField("退回时间", null=True, blank=True)
    attempts = models.PositiveSmallIntegerField("错误次数", default=0)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = verbose_name_plural = "柜内证件"
        constraints = [
            models.UniqueConstraint(fields=["locker"], condition=Q(status="stored"), name="hall_locker_one_item"),
            models.UniqueConstraint(fields=["application"], condition=Q(status="stored"),
                                    name="hall_locker_one_per_case"),
        ]
