"""Every input is bounded: files to compare, output targets, temp files of a killed run."""
import os
import resource
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from trials.annotate import annotate_all
from trials.cli import main
from trials.diff import compare
from trials.errors import BadInput
from trials.export import MAX_EXPORT_BYTES, read_export, to_csv_bytes
from trials.snapshot import load_snapshot
from trials.table import sites_frame

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def site_csv() -> bytes:
    annotated = annotate_all(load_snapshot().studies)
    return to_csv_bytes(sites_frame(annotated, data_as_of="2026-09-18", source="snapshot"))


def test_diff_of_an_endless_stream_under_a_memory_limit_exits_2_with_a_message(tmp_path, site_csv):
    old = tmp_path / "old.csv"
    old.write_bytes(site_csv)

    def limit_memory():  # 4 GB of address space: reading /dev/zero whole grew past 24 GB
        resource.setrlimit(resource.RLIMIT_AS, (4 * 2**30, 4 * 2**30))

    proc = subprocess.run([sys.executable, "-m", "trials", "diff", str(old), "/dev/zero"], capture_output=True,
                          text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                          preexec_fn=limit_memory, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "/dev/zero: larger than 25 MB" in proc.stderr and "Traceback" not in proc.stderr


def test_diff_refuses_a_file_over_the_limit_without_reading_it_all(tmp_path, capsys, site_csv):
    old, big = tmp_path / "old.csv", tmp_path / "big.csv"
    old.write_bytes(site_csv)
    with open(big, "wb") as fh:
        fh.truncate(MAX_EXPORT_BYTES * 4)  # sparse: 100 MB on paper
    assert main(["diff", str(old), str(big)]) == 2
    assert f"{big}: larger than 25 MB" in capsys.readouterr().err


def test_an_upload_over_the_limit_gets_a_message(site_csv):
    too_big = site_csv + b"\n" * (MAX_EXPORT_BYTES + 1 - len(site_csv))
    with pytest.raises(BadInput, match="my-upload.csv: larger than 25 MB"):
        compare(too_big, site_csv, old_name="my-upload.csv")


def test_an_export_of_a_realistic_size_is_read(site_csv):
    """A per-site export of every myeloma study is 1-5 MB; here ~5 MB of real rows."""
    header, rows = site_csv.split(b"\n", 1)
    copies = 5 * 2**20 // len(rows) + 1
    body = b"".join(rows.replace(b"NCT0", f"NCT{i % 10}".encode()) for i in range(copies))
    data = header + b"\n" + body
    assert 4 * 2**20 < len(data) < MAX_EXPORT_BYTES
    assert len(read_export(data, "big.csv").sites) > 10_000


def test_export_refuses_a_read_only_target_and_leaves_it_as_it_was(tmp_path, capsys):
    target = tmp_path / "kept.csv"
    target.write_text("last week's list")
    target.chmod(0o444)
    assert main(["export", "--offline", "-o", str(target)]) == 2
    assert "read-only" in capsys.readouterr().err
    assert target.read_text() == "last week's list"
    assert not target.stat().st_mode & stat.S_IWUSR


def test_temp_files_of_a_killed_export_are_removed_on_the_next_run(tmp_path, capsys):
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # a process that no longer runs, like an export killed mid-write
    target = tmp_path / "list.csv"
    stale = tmp_path / f".list.csv.{gone.pid}.tmp"
    stale.write_bytes(b"half a file")
    running = tmp_path / f".list.csv.{os.getppid()}.tmp"  # a process still running: left alone
    running.write_bytes(b"being written")
    other = tmp_path / f".other.csv.{gone.pid}.tmp"
    other.write_bytes(b"another target's")
    assert main(["export", "--offline", "-o", str(target)]) == 0
    assert target.exists() and not stale.exists()
    assert running.exists() and other.exists()


def test_the_apps_upload_limit_is_the_export_limit():
    """Streamlit refuses larger uploads itself; a smaller limit would refuse exports `diff` reads."""
    import tomllib

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["maxUploadSize"] * 2**20 == MAX_EXPORT_BYTES
