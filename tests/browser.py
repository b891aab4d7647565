"""Headless Chromium for the report's tests: a screenshot, and measurements taken in the rendered page.

measure() copies the page with a small script added at its end that writes what it measured (each chart's
drawn size, every element whose text overflows its box) into a <pre id="measure">; `chromium --dump-dom`
prints the page after the script ran. The report itself has no script: the copy is only for measuring.
Chromium is Debian's package (.ci/run installs it); without it the tests skip locally and fail under CI=true.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

MEASURE = """<script>
(function () {
  const found = {charts: [], overflow: [], page: [document.documentElement.scrollWidth, window.innerWidth]};
  const inside = (r, box) => r.left >= box.left - 1 && r.right <= box.right + 1 && r.top >= box.top - 1 && r.bottom <= box.bottom + 1;
  document.querySelectorAll("svg.chart").forEach(svg => {
    const r = svg.getBoundingClientRect();
    found.charts.push({label: svg.getAttribute("aria-label"), width: r.width, height: r.height,
                       shapes: svg.querySelectorAll("rect").length});
    svg.querySelectorAll("text").forEach(t => {
      if (!inside(t.getBoundingClientRect(), r)) found.overflow.push("svg text: " + t.textContent);
    });
  });
  document.querySelectorAll("main *").forEach(e => {
    if (e.closest("svg") || e.tagName === "SCRIPT") return;
    if (e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1)
      found.overflow.push(e.tagName + ": " + e.textContent.slice(0, 80));
    const parent = e.parentElement && e.parentElement.getBoundingClientRect();
    const r = e.getBoundingClientRect();
    if (parent && r.width > 0 && e.parentElement.tagName !== "MAIN" && !inside(r, parent) && getComputedStyle(e).position === "static")
      found.overflow.push(e.tagName + " outside its box: " + e.textContent.slice(0, 80));
  });
  document.querySelectorAll("main *").forEach(e => {
    if (!e.closest("svg") && e.getBoundingClientRect().right > window.innerWidth + 1)
      found.overflow.push(e.tagName + " wider than the window: " + e.textContent.slice(0, 80));
  });
  const out = document.createElement("pre");
  out.id = "measure";
  out.textContent = JSON.stringify(found);
  document.body.appendChild(out);
})();
</script>"""


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


def _run(binary: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="egov-chromium-") as profile:
        return subprocess.run(
            [binary, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
             "--hide-scrollbars", f"--user-data-dir={profile}", *args],
            capture_output=True, text=True, timeout=timeout, env={**os.environ, "HOME": profile})


def screenshot(binary: str, page: Path, target: Path, width: int = 1000, height: int = 2400) -> None:
    result = _run(binary, f"--screenshot={target}", f"--window-size={width},{height}", page.resolve().as_uri())
    if not target.is_file():
        raise RuntimeError(f"chromium made no screenshot: {result.stderr[-2000:]}")


def measure(binary: str, page: Path, width: int = 1000) -> dict:
    """What MEASURE found in the page rendered `width` pixels wide."""
    copy = page.with_name(page.stem + ".measure.html")
    copy.write_text(page.read_text(encoding="utf-8").replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    result = _run(binary, "--dump-dom", f"--window-size={width},1200", copy.resolve().as_uri())
    found = re.search(r'<pre id="measure">(.*?)</pre>', result.stdout, re.S)
    if found is None:
        raise RuntimeError(f"the measuring script did not run: {result.stderr[-2000:]}")
    return json.loads(html.unescape(found.group(1)))
