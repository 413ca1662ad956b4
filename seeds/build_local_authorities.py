"""Write `seeds/local_authorities.csv`, the English local authorities the corpus is compared by.

Facts only, from the shared DfE/ONS reference: the 3-digit DfE code, the ONS code, the official name,
the region, the ten statistical neighbours and the other names an authority goes by.
Run: python -m sendcorpus.seeds.build_local_authorities [--reference PATH]
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import polars as pl

from sendcorpus.settings import shared_dir
from sendcorpus.warehouse.reference import name_key

LOCAL_AUTHORITIES = Path(__file__).with_name("local_authorities.csv")
COLUMNS = ["la_code", "ons_code", "name", "aliases", "region", "stat_neighbours"]

# Short names in common use that no spelling rule derives from the official name.
COMMON_NAMES = {
    "810": ["Hull", "Hull City Council"],
    "882": ["Southend"],
    "839": ["BCP"],
    "840": ["County Durham"],
    "884": ["Herefordshire, County of"],
    "201": ["City of London Corporation"],
}


def spelling_variants(name: str) -> list[str]:
    """Ways the same authority is written: '&' or 'and', 'X, City of' or 'City of X', 'St' or 'St.', ..."""
    variants = {name}
    inverted = re.fullmatch(r"(.+), (City|County) of", name)
    if inverted:
        place, kind = inverted.groups()
        variants |= {place, f"{kind} of {place}"}
    for variant in list(variants):
        variants.add(variant.replace(" and ", " & "))
        variants.add(variant.replace(" & ", " and "))
        variants.add(re.sub(r"\bSt\. ", "St ", variant))
    if name.endswith(" Borough"):
        variants.add(name.removesuffix(" Borough"))
    return sorted(variants - {name})


def _codes(cell: str | None) -> list[str]:
    return [code.strip().zfill(3) for code in (cell or "").split(",") if code.strip()]


def _listed(cell: str | None, name: str) -> list[str]:
    """`also_known_as` is written like "[BCP, Bournemouth, Christchurch & Poole]": the list's commas
    also split names, so neighbouring parts that together spell the official name are joined again."""
    inner = (cell or "").strip().removeprefix("[").removesuffix("]")
    parts = [part.strip() for part in inner.split(",") if part.strip()]
    listed, start = [], 0
    while start < len(parts):
        end = next(
            (
                stop
                for stop in range(len(parts), start, -1)
                if name_key(", ".join(parts[start:stop])) == name_key(name)
            ),
            start + 1,
        )
        listed.append(", ".join(parts[start:end]))
        start = end
    return listed


def build_local_authorities(reference: Path, output: Path = LOCAL_AUTHORITIES) -> pl.DataFrame:
    source = pl.read_csv(reference, infer_schema=False)
    rows = []
    for row in source.iter_rows(named=True):
        la_code = row["la_code"].zfill(3)
        # Authorities abolished by a merger (Cumbria, Northamptonshire, Poole) keep their last ONS code.
        ons_code = row["la_code_new"] or row["ltla23cd"]
        name = row["local_authority_ons_name"]
        names = [name, *COMMON_NAMES.get(la_code, [])]
        if row["ltla23cd"] == ons_code and row["ltla23nm"]:
            names.append(row["ltla23nm"])
        names += _listed(row["also_known_as"], name)
        aliases: list[str] = []
        seen = {name.lower()}
        for candidate in names:
            for spelling in [candidate, *spelling_variants(candidate)]:
                if spelling.lower() not in seen:
                    seen.add(spelling.lower())
                    aliases.append(spelling)
        rows.append(
            {
                "la_code": la_code,
                "ons_code": ons_code,
                "name": name,
                "aliases": ";".join(aliases) or None,
                "region": row["region_name"],
                "stat_neighbours": ";".join(_codes(row["stat_neighbours"])) or None,
            }
        )
    table = pl.DataFrame(rows, schema=dict.fromkeys(COLUMNS, pl.String)).sort("la_code")
    _check_unambiguous(table)
    table.write_csv(output)
    return table


def _check_unambiguous(table: pl.DataFrame) -> None:
    """Every spelling must lead to one authority, or name lookups would be a guess."""
    owner: dict[str, str] = {}
    for la_code, name, aliases in table.select("la_code", "name", "aliases").iter_rows():
        for spelling in [name, *filter(None, (aliases or "").split(";"))]:
            key = name_key(spelling)
            if owner.setdefault(key, la_code) != la_code:
                raise ValueError(f"the name {spelling!r} fits both {owner[key]} and {la_code}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--reference", type=Path, default=shared_dir() / "reference" / "local_authorities.csv"
    )
    args = parser.parse_args()
    table = build_local_authorities(args.reference)
    print(f"wrote {len(table)} local authorities to {LOCAL_AUTHORITIES}")


if __name__ == "__main__":
    main()
