"""Provider delivery manifests: which part files make one delivery of an export.

A provider writes a large export as several part files plus a manifest that lists them. Loading the
parts of one delivery together makes it one load (one version of its slices); loading some of them,
or parts of an older delivery lying in the same folder, would replace a month with part of it. So a
folder holding a manifest is read by its manifest:

- **AWS CUR** (legacy and CUR 2.0 / Data Exports): ``<report>-Manifest.json`` with ``reportKeys``,
  the S3 keys of the delivery's parts (``<prefix>/<report>/<yyyymmdd-yyyymmdd>/<assemblyId>/<file>``).
  A key is matched to a file by its trailing path segments; files under the manifest's folder that
  the manifest does not list (an older assembly's parts) are skipped with a notice.
- **Azure cost exports**: ``manifest.json`` with ``blobs`` (``blobName``, ``byteCount``,
  ``dataRowCount``) and ``blobCount``/``dataRowCount``. Every blob must be present with its byte
  count; after reading, each file's data rows must equal its ``dataRowCount`` (a part cut short in
  transit is refused).

A manifest naming a part that is not there is refused, naming the part: the delivery is incomplete
(download it again, or wait until the provider has finished writing it).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from finops_xl.errors import Problem

#: File names recognised as manifests (case-insensitive).
AWS_MANIFEST_SUFFIX = "-manifest.json"
AZURE_MANIFEST_NAME = "manifest.json"


@dataclasses.dataclass(frozen=True)
class Delivery:
    """One manifest and the part files it lists.

    Attributes:
      manifest: the manifest file.  kind: ``aws`` or ``azure``.
      parts: the listed files found, as absolute paths (in manifest order).
      missing: listed parts that are not there (their keys or blob names).
      rows: for Azure, data rows per part path (from ``dataRowCount``); empty for AWS.
      sizes: for Azure, bytes per part path (from ``byteCount``).
    """

    manifest: Path
    kind: str
    parts: tuple[Path, ...]
    missing: tuple[str, ...]
    rows: dict
    sizes: dict

    @property
    def folder(self) -> Path:
        return self.manifest.parent


def is_manifest(path: Path) -> bool:
    name = path.name.lower()
    return name.endswith(AWS_MANIFEST_SUFFIX) or name == AZURE_MANIFEST_NAME


def _match(key: str, candidates: list[Path], folder: Path) -> Path | None:
    """The candidate file whose path ends with the most trailing segments of ``key``."""
    segments = [s for s in key.replace("\\", "/").split("/") if s]
    best, best_depth = None, 0
    for c in candidates:
        rel = c.relative_to(folder).parts if c.is_relative_to(folder) else c.parts
        depth = 0
        for a, b in zip(reversed(rel), reversed(segments)):
            if a != b:
                break
            depth += 1
        if depth > best_depth:
            best, best_depth = c, depth
    return best


def read_manifest(path: Path, files: list[Path]) -> tuple[Delivery | None, list[Problem]]:
    """The delivery a manifest describes, matched against the data ``files`` under its folder."""
    label = str(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, [Problem(label, f"the delivery manifest cannot be read as JSON ({exc}); download it again")]
    folder = path.parent
    under = [f for f in files if f.is_relative_to(folder)]
    if path.name.lower().endswith(AWS_MANIFEST_SUFFIX) and isinstance(doc, dict) and "reportKeys" in doc:
        keys = doc.get("reportKeys") or []
        parts, missing = [], []
        for key in keys:
            found = _match(str(key), under, folder)
            (parts.append(found) if found is not None else missing.append(str(key)))
        return Delivery(path, "aws", tuple(parts), tuple(missing), {}, {}), []
    if path.name.lower() == AZURE_MANIFEST_NAME and isinstance(doc, dict) and "blobs" in doc:
        parts, missing, rows, sizes = [], [], {}, {}
        for blob in doc.get("blobs") or []:
            name = str(blob.get("blobName", ""))
            found = _match(name, under, folder)
            if found is None:
                missing.append(name)
                continue
            parts.append(found)
            if blob.get("dataRowCount") is not None:
                rows[found] = int(blob["dataRowCount"])
            if blob.get("byteCount") is not None:
                sizes[found] = int(blob["byteCount"])
        return Delivery(path, "azure", tuple(parts), tuple(missing), rows, sizes), []
    return None, []  # some other JSON file: not a manifest this package knows


def deliveries(manifests: list[Path], files: list[Path]) -> tuple[list[Delivery], list[Problem]]:
    """Read every manifest; a manifest naming absent parts, or a part of the wrong size, is a problem."""
    found: list[Delivery] = []
    problems: list[Problem] = []
    for m in manifests:
        d, p = read_manifest(m, files)
        problems.extend(p)
        if d is None:
            continue
        for key in d.missing:
            problems.append(Problem(
                str(m), f"the delivery Manifest lists a part that is not here: {key}; the delivery is "
                        f"incomplete (download every part again, or wait until the provider has finished "
                        f"writing it)"))
        for part, size in d.sizes.items():
            actual = part.stat().st_size
            if actual != size:
                problems.append(Problem(
                    str(part), f"is {actual:,} bytes but the delivery manifest {m.name} says {size:,}: the "
                               f"part was cut short or changed in transit; download it again"))
        found.append(d)
    return found, problems
