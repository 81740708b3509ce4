"""The report as PDF: the HTML report (report/html.py) printed by headless Chromium.

One layout for both formats: the HTML's @media print rules and @page (A4) shape the PDF.
Chromium embeds the system fonts it used (Noto Sans CJK for Chinese, TLWG Loma for Thai on
Debian: `apt-get install chromium fonts-noto-cjk fonts-thai-tlwg`, or `make sysdeps`).
Nothing is fetched: the HTML holds no URL, and Chromium runs with networking features off.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from servicekpi.report import html
from servicekpi.report.document import Report

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
ENV_BROWSER = "SERVICEKPI_CHROMIUM"  # a path to the browser, when it is not on PATH
TIMEOUT = 180  # seconds for one print


class PdfError(RuntimeError):
    """The PDF could not be made (no browser, or the browser failed)."""


def find_browser() -> str:
    """The headless-capable Chromium/Chrome binary, or PdfError saying how to install one."""
    override = os.environ.get(ENV_BROWSER)
    if override:
        if shutil.which(override) or Path(override).is_file():
            return shutil.which(override) or override
        raise PdfError(f"{ENV_BROWSER}={override} is not an executable browser")
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    raise PdfError("PDF output needs Chromium, and none was found on PATH (looked for "
                   f"{', '.join(BROWSERS)}). On Debian/Ubuntu: sudo apt-get install chromium "
                   "fonts-noto-cjk fonts-thai-tlwg (or `make sysdeps`); elsewhere install Chromium or "
                   f"Google Chrome, or set {ENV_BROWSER} to its path. HTML output (--out report.html) "
                   "works without it.")


def command(browser: str, source: Path, out: Path, profile: Path) -> list[str]:
    return [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
            "--disable-extensions", "--disable-background-networking", "--disable-sync",
            "--no-first-run", "--no-default-browser-check", "--mute-audio",
            f"--user-data-dir={profile}", "--run-all-compositor-stages-before-draw",
            f"--print-to-pdf={out}", source.as_uri()]


def print_html(source: str | Path, out: str | Path) -> Path:
    """Print an HTML file to PDF with headless Chromium."""
    source, out = Path(source).resolve(), Path(out).resolve()
    browser = find_browser()
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists():
        out.unlink()
    with tempfile.TemporaryDirectory(prefix="servicekpi-chromium-") as profile:
        env = {**os.environ, "HOME": profile}  # a throwaway profile: no user state, no crash dialogs
        try:
            proc = subprocess.run(command(browser, source, out, Path(profile)), capture_output=True,
                                  text=True, timeout=TIMEOUT, env=env, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise PdfError(f"{browser} did not finish printing {source.name} within {TIMEOUT} s") from None
    if proc.returncode != 0 or not out.exists() or out.stat().st_size == 0:
        tail = "\n".join((proc.stderr or "").strip().splitlines()[-5:])
        raise PdfError(f"{browser} failed to print {source.name} to PDF (exit {proc.returncode})"
                       + (f":\n{tail}" if tail else ""))
    return out


def write(report: Report, path: str | Path) -> Path:
    """Write the report as a PDF: render the HTML next to nothing else, print it, clean up."""
    path = Path(path)
    with tempfile.TemporaryDirectory(prefix="servicekpi-report-") as tmp:
        source = html.write(report, Path(tmp) / "report.html")
        return print_html(source, path)
