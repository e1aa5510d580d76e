"""The Ray executor's pool shapes (no cluster started: ray.data's strategy objects only)."""


def test_ray_actor_pool_runs_calls_at_once_only_when_asked():
    import ray

    from humanverse.engine.ray_executor import actor_pool

    one, four = actor_pool(ray, 2), actor_pool(ray, 1, 4)
    assert (one.min_size, one.max_size, one.max_concurrent_calls_per_actor) == (2, 2, None)
    assert (four.min_size, four.max_concurrent_calls_per_actor, four.enable_true_multi_threading) == (1, 4, True)
