"""The build's progress bar on a terminal (issue 8: a long build says what it is doing): one
step per phase, with the number of pages written so far. Silent when not enabled."""

from __future__ import annotations

from collections.abc import Callable

from tqdm import tqdm

PHASES = {
    "editorial": "政策与帮助页面",
    "registers": "名录与公示页面",
    "downloads": "下载文件与订阅",
    "search_index": "搜索索引",
    "leak_gate": "泄露检查",
    "manifest": "签名清单",
}
PAGE_STEP = 500  # pages between updates of the page count (a bar redraw costs time)


class BuildProgress:
    """A tqdm bar over the build's phases; ``enabled=False`` draws nothing."""

    def __init__(self, enabled: bool) -> None:
        self.pages = 0
        self.bar = (
            tqdm(total=len(PHASES), desc="构建网站", unit=" 步", leave=False) if enabled else None
        )

    def start(self, phase: str) -> None:
        if self.bar is not None:
            self.bar.set_description(f"构建网站：{PHASES.get(phase, phase)}")

    def finish(self) -> None:
        if self.bar is not None:
            self.bar.update(1)

    def counting(self, on_page: Callable[[str], object]) -> Callable[[str], None]:
        """``on_page`` that also counts the pages on the bar."""

        def counted(rel: str) -> None:
            on_page(rel)
            self.pages += 1
            if self.bar is not None and self.pages % PAGE_STEP == 0:
                self.bar.set_postfix_str(f"{self.pages} 页")

        return counted

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
