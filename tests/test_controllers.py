"""Temperature controllers: outputs, registry and validation errors."""

import pytest
import torch

from harness.temperature.base import ControllerContext, RowTemperatures, build_controller, validate_method

CTX = ControllerContext(total_steps=11, hidden_size=8, seed=0)


def temperatures(policy, n=3, position=0):
    logits = torch.zeros(n, 5)
    return policy(position, logits, torch.zeros(n, 8), torch.arange(n))


def test_fixed_gives_its_temperature_to_every_row_and_position():
    c = build_controller({"controller": "fixed", "temperature": 0.6}, CTX)
    for step in (0, 10):
        assert torch.allclose(temperatures(c.policy(step, 8), position=step), torch.full((3,), 0.6))
    assert torch.allclose(temperatures(c.eval_policy()), torch.full((3,), 0.6))


def test_linear_schedule_over_training_steps():
    c = build_controller({"controller": "linear", "start": 0.9, "end": 1.5}, CTX)
    assert [round(c.temperature(s), 6) for s in (0, 5, 10)] == [0.9, 1.2, 1.5]
    assert torch.allclose(temperatures(c.policy(5, 8)), torch.full((3,), 1.2))
    # ramp over 4 steps, then constant (multi-temperature paper's linear increase)
    ramp = build_controller({"controller": "linear", "start": 1.2, "end": 1.4, "ramp_steps": 5}, CTX)
    assert [round(ramp.temperature(s), 6) for s in (0, 2, 4, 9)] == [1.2, 1.3, 1.4, 1.4]
    assert temperatures(c.eval_policy())[0].item() == pytest.approx(1.5)


def test_row_temperatures_follow_active_rows():
    policy = RowTemperatures(torch.tensor([0.5, 1.0, 1.5, 2.0]))
    out = policy(3, torch.zeros(2, 5), torch.zeros(2, 8), torch.tensor([1, 3]))
    assert out.tolist() == [1.0, 2.0]


def test_unknown_controller_lists_the_allowed_ones():
    with pytest.raises(ValueError, match=r"methods\.x\.controller: unknown temperature controller 'tampo2' \(did you mean 'tampo'\?\); allowed: .*fixed.*linear"):
        validate_method({"controller": "tampo2"}, "methods.x")


def test_bad_parameters_name_the_field():
    with pytest.raises(ValueError, match="temperature"):
        validate_method({"controller": "fixed", "temperature": -1}, "methods.x")
    with pytest.raises(ValueError, match="tempreature"):
        validate_method({"controller": "fixed", "temperature": 1.0, "tempreature": 2}, "methods.x")


def test_stateless_controller_rejects_foreign_state():
    c = build_controller({"controller": "fixed", "temperature": 1.0}, CTX)
    assert c.state_dict() == {}
    with pytest.raises(ValueError, match="no state"):
        c.load_state_dict({"ema": 1})
