"""The nine official SmartCA registration steps as data, and the rules for moving between them.

No Flask here: the wizard asks these functions what is allowed and renders the answer.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


@dataclass(frozen=True)
class Step:
    number: int
    slug: str
    title: str
    short_title: str


STEPS: tuple[Step, ...] = (
    Step(1, "dang-ky-tai-khoan", "Đăng ký tài khoản", "Đăng ký"),
    Step(2, "chon-goi-dich-vu", "Chọn gói dịch vụ", "Chọn gói"),
    Step(3, "khai-bao-thong-tin", "Khai báo thông tin", "Thông tin"),
    Step(4, "khoi-tao-dich-vu", "Khởi tạo dịch vụ", "Khởi tạo"),
    Step(5, "kich-hoat", "Nhập mã kích hoạt từ SMS, tạo mật khẩu", "Kích hoạt"),
    Step(6, "xac-thuc", "Xác thực giấy tờ, khuôn mặt", "Xác thực"),
    Step(7, "ky-hop-dong", "Ký hợp đồng điện tử", "Hợp đồng"),
    Step(8, "tao-ma-pin", "Tạo mã PIN ký số", "Mã PIN"),
    Step(9, "ky-bien-ban", "Ký biên bản nghiệm thu", "Nghiệm thu"),
)
FIRST_STEP = 1
LAST_STEP = len(STEPS)
DONE = LAST_STEP + 1  # "Hoàn tất": not an official step, the receipt screen
PROVISIONING_STEP = 4  # after this the backend holds the data: earlier steps become read-only


class Access(str, Enum):
    EDIT = "edit"  # the step can be shown and submitted
    READ_ONLY = "read_only"  # shown as a summary; submitting is refused
    NOT_REACHED = "not_reached"  # the customer has not got this far: go to the current step
    FINISHED = "finished"  # the registration is complete: nothing can be re-entered


def step(number: int) -> Step:
    if not FIRST_STEP <= number <= LAST_STEP:
        raise KeyError(number)
    return STEPS[number - 1]


def access(number: int, furthest_step: int, finished: bool) -> Access:
    """What the customer may do with step `number`.

    `furthest_step` is the first step whose data is not yet accepted (DONE when all are).
    Before provisioning, completed steps may be revisited and changed; once step 4 has
    created the subscription, completed steps are history and only the next one is open.
    """
    if finished:
        return Access.FINISHED
    if number < FIRST_STEP or number > LAST_STEP or number > furthest_step:
        return Access.NOT_REACHED
    if number == furthest_step:
        return Access.EDIT
    if furthest_step > PROVISIONING_STEP:
        return Access.READ_ONLY
    return Access.EDIT


def advance(completed: int, furthest_step: int) -> int:
    """New furthest step after `completed` was accepted."""
    return max(furthest_step, completed + 1)


def progress(current: int, furthest_step: int) -> list[tuple[Step, str]]:
    """(step, state) for the progress bar: done, current or todo."""
    states = []
    for s in STEPS:
        if s.number == current:
            state = "current"
        elif s.number < furthest_step:
            state = "done"
        else:
            state = "todo"
        states.append((s, state))
    return states
