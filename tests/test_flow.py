"""The nine steps as data and the rules for moving between them (no Flask)."""
from kiosk.domain import flow
from kiosk.domain.flow import Access


def test_there_are_nine_official_steps_in_order():
    assert [s.number for s in flow.STEPS] == list(range(1, 10))
    assert flow.step(1).title == "Đăng ký tài khoản"
    assert flow.step(5).title == "Nhập mã kích hoạt từ SMS, tạo mật khẩu"
    assert flow.step(9).title == "Ký biên bản nghiệm thu"


def test_step_titles_are_nfc():
    import unicodedata

    for s in flow.STEPS:
        assert unicodedata.is_normalized("NFC", s.title)


def test_current_step_is_editable():
    assert flow.access(3, furthest_step=3, finished=False) is Access.EDIT


def test_step_not_reached_is_refused():
    assert flow.access(4, furthest_step=3, finished=False) is Access.NOT_REACHED
    assert flow.access(0, furthest_step=3, finished=False) is Access.NOT_REACHED
    assert flow.access(10, furthest_step=10, finished=False) is Access.NOT_REACHED


def test_going_back_is_allowed_before_provisioning():
    assert flow.access(1, furthest_step=4, finished=False) is Access.EDIT


def test_after_provisioning_earlier_steps_are_read_only():
    assert flow.access(1, furthest_step=5, finished=False) is Access.READ_ONLY
    assert flow.access(4, furthest_step=5, finished=False) is Access.READ_ONLY
    assert flow.access(6, furthest_step=8, finished=False) is Access.READ_ONLY


def test_finished_registration_allows_nothing():
    assert flow.access(9, furthest_step=10, finished=True) is Access.FINISHED


def test_advance_never_moves_backwards():
    assert flow.advance(2, furthest_step=4) == 4
    assert flow.advance(4, furthest_step=4) == 5


def test_progress_marks_done_current_and_todo():
    states = dict((s.number, state) for s, state in flow.progress(current=2, furthest_step=4))
    assert states[1] == "done" and states[2] == "current" and states[3] == "done"
    assert states[4] == "todo" and states[9] == "todo"
