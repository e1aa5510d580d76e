from tests.eval.conftest import _one_torch_thread, eval_shards, trained_runs  # noqa: F401 - shared fixtures
