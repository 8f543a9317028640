"""The fixture images of ../shared/fixtures/README.md (rootfs files only) and what trivy must find in
them with the offline DB in infra/trivy-db (advisories in ../shared/tools/trivy-db-gen)."""

from __future__ import annotations

from tests.support.images import Image, config_for, layer_tar


def _image(files: dict[str, bytes]) -> Image:
    layers = [layer_tar(files)]
    return Image(config_for(layers), layers)


def alpine_318(marker: str = "") -> Image:
    """`marker`: a file that changes the digest, not the findings (an image no other test has scanned)."""
    packages = [("musl", "1.2.4-r1"), ("busybox", "1.36.1-r1"), ("openssl", "3.1.4-r1"), ("zlib", "1.2.13-r1")]
    installed = "".join(f"P:{name}\nV:{version}\nA:x86_64\no:{name}\n\n" for name, version in packages)
    marked = {"etc/marker": marker.encode()} if marker else {}
    return _image({"etc/alpine-release": b"3.18.4\n", "lib/apk/db/installed": installed.encode(), **marked})


def debian_12() -> Image:
    packages = [("libc6", "2.36-9+deb12u1", "glibc"), ("libssl3", "3.0.11-1~deb12u1", "openssl"),
                ("zlib1g", "1:1.2.13.dfsg-1", "zlib"), ("bash", "5.2.15-2+b2", "bash")]
    status = "".join(f"Package: {name}\nStatus: install ok installed\nVersion: {version}\nSource: {source}\n"
                     f"Architecture: amd64\n\n" for name, version, source in packages)
    return _image({"etc/debian_version": b"12.2\n", "var/lib/dpkg/status": status.encode()})


def no_packages() -> Image:
    return _image({"etc/motd": b"nothing installed here\n"})


# (id, package, version, fix_version, severity, CVSS v3 score, CVSS v3 vector, CWE ids)
ALPINE_318_FINDINGS = [
    ("CVE-2099-0001", "musl", "1.2.4-r1", "1.2.4-r9", "High", 7.5, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N",
     ["CWE-787"]),
    ("CVE-2099-0002", "musl", "1.2.4-r1", "", "Low", 2.5, "CVSS:3.1/AV:L/AC:H/PR:L/UI:N/S:U/C:L/I:N/A:N",
     ["CWE-20", "CWE-125"]),
    ("CVE-2099-0003", "busybox", "1.36.1-r1", "1.36.1-r2", "Critical", 9.8,
     "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", ["CWE-416"]),
    ("CVE-2099-0004", "busybox", "1.36.1-r1", "1.36.1-r5", "Medium", 4.2,
     "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:L/A:N", ["CWE-93"]),
    ("CVE-2099-0006", "zlib", "1.2.13-r1", "", "Unknown", None, "", []),
]

DEBIAN_12_FINDINGS = [
    ("CVE-2099-0101", "libc6", "2.36-9+deb12u1", "2.36-9+deb12u4", "Critical", 9.8,
     "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", ["CWE-120", "CWE-787"]),
    ("CVE-2099-0102", "libc6", "2.36-9+deb12u1", "", "Low", 3.7, "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:N/A:L",
     ["CWE-1333"]),
    ("CVE-2099-0103", "libssl3", "3.0.11-1~deb12u1", "3.0.11-1~deb12u2", "High", 7.4,
     "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:N", ["CWE-787"]),
    ("CVE-2099-0104", "zlib1g", "1:1.2.13.dfsg-1", "1:1.2.13.dfsg-1+deb12u1", "Medium", 5.3,
     "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:N/I:N/A:H", ["CWE-190"]),
    ("CVE-2099-0105", "bash", "5.2.15-2+b2", "", "Low", None, "", ["CWE-200"]),
]


def findings(report: dict) -> list[tuple]:
    """A report's vulnerabilities in the shape of the tables above, sorted by id."""
    return sorted((v["id"], v["package"], v["version"], v["fix_version"], v["severity"],
                   v["preferred_cvss"]["score_v3"], v["preferred_cvss"]["vector_v3"], v["cwe_ids"])
                  for v in report["vulnerabilities"])


CSV_HEADER = ("Repository,Artifact Digest,CVE,Package,Current Version,Fixed in version,Severity,CWE Ids,"
              "Additional Data,Scanner")


def csv_rows(repository: str, digest: str, table: list[tuple], scanner: str = "Trivy") -> list[list[str]]:
    """The export rows Harbor writes for a scanned image (Additional Data in PostgreSQL's jsonb text)."""
    rows = []
    for cve, package, version, fixed, severity, score, vector, cwes in table:
        extra = f'{{"CVSS": {{"nvd": {{"V3Score": {score}, "V3Vector": "{vector}"}}}}}}' if score is not None else ""
        rows.append([repository, digest, cve, package, version, fixed, severity, ",".join(cwes), extra, scanner])
    return rows
