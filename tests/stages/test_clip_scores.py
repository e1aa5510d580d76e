"""The aesthetic / NSFW stage: scale-safe config, threshold semantics, score sources, embeddings, provenance.

All models are real architectures with random weights (a tiny CLIP with the real 768-d output), written in
the published formats and loaded by the stage's own setup().
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import torch
from pydantic import ValidationError

from humanverse.models.clip.demo_weights import build_demo_weights
from humanverse.models.clip import nsfw_head
from humanverse.models.clip import aesthetic_mlp
from humanverse.models.clip import clip_embedder
from humanverse.stages.clip_scores import (
    AestheticConfig,
    ClipConfig,
    ClipScoresConfig,
    CLIPScoreStage,
    NSFWConfig,
)
from humanverse.models.files import MissingModelFiles
from humanverse.core.sample import Sample
from humanverse.core.stage import Resources
from humanverse.core.task import TaskPayload, TaskSpec

TINY = {"arch": clip_embedder.TINY_ARCH, "weights": "clip"}


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    cfg = ClipScoresConfig(
        clip=ClipConfig(**TINY),
        aesthetic=AestheticConfig(weights="aesthetic"),
        nsfw=NSFWConfig(weights="nsfw"),
    )
    build_demo_weights(root, cfg.clip.weights, cfg.clip.arch, cfg.aesthetic.weights, cfg.nsfw.weights)
    _constant_aesthetic(root / "aesthetic-4.5", 4.5)
    _constant_aesthetic(root / "aesthetic-4.49", 4.49)
    return root


def _constant_aesthetic(target, value: float) -> None:
    """Published layout, but the last layer ignores its input: every image scores exactly `value`."""
    mlp = aesthetic_mlp.AestheticMLP()
    with torch.no_grad():
        mlp.layers[7].weight.zero_()
        mlp.layers[7].bias.fill_(value)
    target.mkdir()
    torch.save(mlp.state_dict(), target / aesthetic_mlp.PUBLISHED_FILE)


def _stage(models, *, aes: dict | None = None, nsfw: dict | None = None, clip: dict | None = None, setup=True):
    cfg = ClipScoresConfig(
        clip=ClipConfig(**{**TINY, "resources": Resources(batch_size=4, threads=1), **(clip or {})}),
        aesthetic=AestheticConfig(**{"weights": "aesthetic", **(aes or {})}),
        nsfw=NSFWConfig(**{"weights": "nsfw", **(nsfw or {})}),
    )
    stage = CLIPScoreStage(cfg, models_dir=str(models))
    if setup:
        stage.ensure_setup()
    return stage


def _sample(i: int, seed: int = 0, **meta) -> Sample:
    rng = np.random.default_rng(seed * 1000 + i)
    h, w = [(240, 320), (400, 300), (224, 224), (500, 380)][i % 4]
    return Sample(
        key=f"k{i:04d}",
        task_id="00000-000",
        source={"dataset": "test"},
        meta=dict(meta),
        image=rng.integers(0, 256, (h, w, 3), dtype=np.uint8),
    )


# --- config: scales that cannot be misread ---------------------------------------------------------


def test_defaults_are_the_humanverse_threshold_on_the_1_to_10_scale():
    cfg = ClipScoresConfig()
    assert cfg.aesthetic.min_score == 4.5
    assert cfg.aesthetic.source == "auto"
    assert cfg.clip.arch == "ViT-L-14-quickgelu"
    assert cfg.clip.place == "after_person"
    assert cfg.clip.keep_embeddings is False


@pytest.mark.parametrize("value", [0.45, 0.0, "0.5"])
def test_a_0_to_1_aesthetic_threshold_is_refused_with_the_scale_explained(value):
    with pytest.raises(ValidationError) as err:
        AestheticConfig(min_score=value)
    message = str(err.value)
    assert "1 to 10" in message
    assert f"did you mean {float(value) * 10:g}" in message


@pytest.mark.parametrize("value", [45, 10.5, -1])
def test_an_aesthetic_threshold_above_10_or_negative_is_refused(value):
    with pytest.raises(ValidationError, match="1 to 10"):
        AestheticConfig(min_score=value)


def test_an_nsfw_threshold_given_as_a_percentage_is_refused():
    with pytest.raises(ValidationError, match="between 0 and 1.*0.1"):
        NSFWConfig(max_score=10)
    assert NSFWConfig(max_score=1).max_score == 1.0


def test_unknown_keys_and_sources_are_errors():
    with pytest.raises(ValidationError):
        AestheticConfig(min_aesthetic=4.5)
    with pytest.raises(ValidationError):
        AestheticConfig(source="column")
    with pytest.raises(ValidationError):
        ClipConfig(place="first")


# --- threshold semantics ------------------------------------------------------------------------


def test_metadata_score_exactly_at_the_threshold_is_kept(models):
    stage = _stage(models)
    at, below, above = _sample(0, aesthetic=4.5), _sample(1, aesthetic=4.4999), _sample(2, aesthetic=7.0)
    stage.process([at, below, above])
    assert at.alive and above.alive
    assert (below.status, below.reason, below.stage) == ("rejected", "aesthetic_low", "clip_scores")
    assert at.scores["aesthetic"] == 4.5
    assert at.scores["aesthetic_source"] == "metadata:aesthetic"


def test_model_score_exactly_at_the_threshold_is_kept(models):
    kept = _sample(0)
    _stage(models, aes={"weights": "aesthetic-4.5", "source": "model"}).process([kept])
    assert kept.alive and kept.scores["aesthetic"] == 4.5

    dropped = _sample(0)
    _stage(models, aes={"weights": "aesthetic-4.49", "source": "model"}).process([dropped])
    assert dropped.reason == "aesthetic_low"
    assert dropped.scores["aesthetic"] == pytest.approx(4.49, abs=1e-6)


def test_a_stricter_threshold_rejects_what_the_default_keeps(models):
    s = _sample(0, aesthetic=5.0)
    _stage(models, aes={"min_score": 5.5}).process([s])
    assert s.reason == "aesthetic_low"


# --- where the scores come from --------------------------------------------------------------------


def test_auto_uses_the_column_when_present_and_the_model_when_missing(models):
    stage = _stage(models, aes={"weights": "aesthetic-4.5"})
    with_column, without, nan, null = (
        _sample(0, aesthetic=8.25, punsafe=0.01),
        _sample(1, punsafe=0.01),
        _sample(2, aesthetic=float("nan"), punsafe=0.01),
        _sample(3, aesthetic=None, punsafe=0.01),
    )
    stage.process([with_column, without, nan, null])
    assert with_column.scores["aesthetic"] == 8.25
    assert with_column.scores["aesthetic_source"] == "metadata:aesthetic"
    for s in (without, nan, null):
        assert s.alive
        assert s.scores["aesthetic"] == 4.5
        assert s.scores["aesthetic_source"] == "model:sac+logos+ava1-l14-linearMSE@humanverse-tiny-clip"


def test_model_source_ignores_the_column(models):
    s = _sample(0, aesthetic=9.9)
    _stage(models, aes={"weights": "aesthetic-4.49", "source": "model"}).process([s])
    assert s.scores["aesthetic_source"].startswith("model:")
    assert s.reason == "aesthetic_low"


def test_metadata_source_rejects_rows_without_the_column_and_loads_no_model(models):
    stage = _stage(models, aes={"source": "metadata"}, nsfw={"source": "metadata"})
    assert stage.embedder is None and stage.aesthetic_model is None and stage.nsfw_model is None
    missing, present, no_punsafe = (
        _sample(0, punsafe=0.0),
        _sample(1, aesthetic=6.0, punsafe=0.0),
        _sample(2, aesthetic=6.0),
    )
    stage.process([missing, present, no_punsafe])
    assert missing.reason == "aesthetic_missing"
    assert no_punsafe.reason == "nsfw_missing"
    assert present.alive and present.scores["nsfw_source"] == "metadata:punsafe"


def test_clip_runs_only_for_rows_that_need_a_computed_score(models):
    stage = _stage(models)
    calls: list[int] = []
    real_embed = stage.embedder.embed
    stage.embedder.embed = lambda images: calls.append(len(images)) or real_embed(images)

    complete = [_sample(i, aesthetic=6.0, punsafe=0.0) for i in range(3)]
    no_punsafe = _sample(3, aesthetic=6.0, nsfw_score_opennsfw2=0.0)  # COYO's score is not punsafe
    stage.process([*complete, no_punsafe])

    assert calls == [1]
    assert no_punsafe.scores["nsfw_source"] == "model:clip_autokeras_binary_nsfw@humanverse-tiny-clip"
    assert 0.0 < no_punsafe.scores["nsfw"] < 1.0
    assert all(s.scores["nsfw_source"] == "metadata:punsafe" for s in complete)


def test_nsfw_above_the_maximum_is_rejected_first_and_both_scores_are_recorded(models):
    stage = _stage(models)
    unsafe_and_ugly, at_max = _sample(0, aesthetic=2.0, punsafe=0.9), _sample(1, aesthetic=6.0, punsafe=0.5)
    stage.process([unsafe_and_ugly, at_max])
    assert unsafe_and_ugly.reason == "nsfw_high"
    assert unsafe_and_ugly.scores == {
        "aesthetic": 2.0,
        "aesthetic_source": "metadata:aesthetic",
        "nsfw": 0.9,
        "nsfw_source": "metadata:punsafe",
    }
    assert at_max.alive


def test_disabled_heads_write_no_scores(models):
    stage = _stage(models, aes={"enabled": False}, nsfw={"enabled": False})
    assert stage.embedder is None
    s = _sample(0)
    stage.process([s])
    assert s.alive and s.scores == {}


# --- embeddings ------------------------------------------------------------------------------------


def test_kept_samples_carry_an_fp16_unit_embedding_and_rejected_ones_none(models):
    stage = _stage(models, clip={"keep_embeddings": True})
    kept, rejected = _sample(0, aesthetic=6.0, punsafe=0.0), _sample(1, aesthetic=1.0, punsafe=0.0)
    stage.process([kept, rejected])
    emb = kept.columns["clip_embedding"]
    assert emb.dtype == np.float16 and emb.shape == (768,)
    assert np.linalg.norm(emb.astype(np.float32)) == pytest.approx(1.0, abs=2e-3)
    assert "clip_embedding" not in rejected.columns and rejected.image is None


def test_no_embedding_column_unless_asked(models):
    s = _sample(0)
    _stage(models).process([s])
    assert "clip_embedding" not in s.columns


# --- batching -------------------------------------------------------------------------------------


def _run(stage: CLIPScoreStage, samples: list[Sample]) -> TaskPayload:
    task = TaskPayload(spec=TaskSpec("00000-000", "in.parquet", "parquet", 0, len(samples)), samples=samples)
    return stage.run_task(task)


def test_batched_and_one_by_one_give_the_same_scores(models):
    batched = [_sample(i, seed=7) for i in range(6)]
    single = [_sample(i, seed=7) for i in range(6)]
    _run(_stage(models, clip={"resources": Resources(batch_size=6, threads=1)}), batched)
    _run(_stage(models, clip={"resources": Resources(batch_size=1, threads=1)}), single)
    for b, s in zip(batched, single):
        assert b.scores["aesthetic"] == pytest.approx(s.scores["aesthetic"], abs=1e-4)
        assert b.scores["nsfw"] == pytest.approx(s.scores["nsfw"], abs=1e-5)
    assert len({round(b.scores["nsfw"], 7) for b in batched}) > 1  # the images really differ


def test_the_funnel_counts_each_reason(models):
    samples = [
        _sample(0, aesthetic=6.0, punsafe=0.0),
        _sample(1, aesthetic=3.0, punsafe=0.0),
        _sample(2, aesthetic=3.5, punsafe=0.0),
        _sample(3, aesthetic=6.0, punsafe=0.7),
    ]
    task = _run(_stage(models), samples)
    assert task.counters["clip_scores"] == {
        "in": 4,
        "ok": 1,
        "rejected:aesthetic_low": 2,
        "rejected:nsfw_high": 1,
    }
    notes = _stage(models, setup=False).reason_descriptions()
    assert "1–10 scale" in notes["aesthetic_low"] and "4.5" in notes["aesthetic_low"]


def test_a_sample_without_pixels_becomes_an_error_row_and_the_batch_goes_on(models):
    broken, fine = _sample(0), _sample(1)
    broken.image = None
    _run(_stage(models), [broken, fine])
    assert (broken.status, broken.reason) == ("error", "clip_scores_error:no_image")
    assert fine.alive and "aesthetic" in fine.scores


# --- loading and provenance -------------------------------------------------------------------------


def test_model_ids_name_each_loaded_file_with_its_sha256(models):
    ids = _stage(models, setup=False).model_ids()
    assert set(ids) == {"clip_embedding", "aesthetic", "nsfw"}
    digest = hashlib.sha256((models / "aesthetic" / aesthetic_mlp.PUBLISHED_FILE).read_bytes()).hexdigest()
    assert ids["aesthetic"] == f"model:sac+logos+ava1-l14-linearMSE@humanverse-tiny-clip sha256:{digest}"
    assert ids["clip_embedding"].startswith("open_clip:humanverse-tiny-clip:clip/open_clip_model.safetensors sha256:")

    only_meta = _stage(models, aes={"source": "metadata"}, nsfw={"source": "metadata"}, setup=False)
    assert only_meta.model_ids() == {}


def test_missing_weights_are_all_named_at_once_before_any_work(models, tmp_path):
    stage = CLIPScoreStage(ClipScoresConfig(clip=ClipConfig(**TINY)), models_dir=str(tmp_path))
    with pytest.raises(MissingModelFiles) as err:
        stage.check_models()
    for name in ("open_clip_model.safetensors", "sac+logos+ava1-l14-linearMSE.pth", "clip_autokeras_binary_nsfw.safetensors"):
        assert name in str(err.value)
    with pytest.raises(MissingModelFiles, match="open_clip_model.safetensors"):
        stage.setup()
    _stage(models, setup=False).check_models()


def test_a_clip_whose_width_does_not_fit_the_heads_is_refused(models, monkeypatch, tmp_path):
    narrow = {**clip_embedder.EXTRA_ARCHS[clip_embedder.TINY_ARCH], "embed_dim": 512}
    monkeypatch.setitem(clip_embedder.EXTRA_ARCHS, "narrow-clip", narrow)
    clip_embedder.build_demo_weights(tmp_path / "narrow", arch="narrow-clip")
    (tmp_path / "aesthetic").symlink_to(models / "aesthetic")
    (tmp_path / "nsfw").symlink_to(models / "nsfw")
    with pytest.raises(ValueError, match="512-d.*768-d"):
        _stage(tmp_path, clip={"arch": "narrow-clip", "weights": "narrow"})


def test_demo_weights_refuse_hub_specs(tmp_path):
    with pytest.raises(ValueError, match="relative"):
        cfg = ClipScoresConfig()
        build_demo_weights(tmp_path, cfg.clip.weights, cfg.clip.arch, cfg.aesthetic.weights, cfg.nsfw.weights)
    assert not any(tmp_path.iterdir())
    assert nsfw_head.PUBLISHED_FILE == "clip_autokeras_binary_nsfw.safetensors"
