"""The download stage: fetch every alive sample that has a URL but no bytes yet; failures become rows."""

from __future__ import annotations

from humanverse.core.sample import Sample
from humanverse.core.stage import Resources, Stage
from humanverse.sources.download import DownloadConfig, Downloader


class FetchStage(Stage):
    name = "fetch"

    def __init__(self, cfg: DownloadConfig, resources: Resources):
        super().__init__(resources)
        self.cfg = cfg
        self.downloader: Downloader | None = None

    def setup(self) -> None:
        self.downloader = Downloader(self.cfg)

    def process(self, batch: list[Sample]) -> None:
        todo = [s for s in batch if s.image_bytes is None]
        results = self.downloader.fetch_many([s.source.get("url") for s in todo])
        for sample, result in zip(todo, results):
            sample.info["http"] = {"status": result.http_status}
            sample.timings["fetch"] = result.seconds
            if result.reason is not None:
                sample.fail(self.name, result.reason, transient=result.transient)
            else:
                sample.image_bytes = result.data
