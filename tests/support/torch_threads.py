"""One torch thread per test in the packages that import this into their conftest: the tiny models gain
nothing from more, and tests running beside each other on 2 cores stop fighting over them."""

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
