"""Demo cluster groups: sets of related NACE divisions in which the demo economy plants clusters.

These are *not* the EOCIC cluster categories (those are defined on 4-digit NACE classes); they
are a small, disjoint grouping of 2-digit divisions used only to plant and then recover
cluster effects in the synthetic data. A division belongs to at most one group; the 15
divisions in no group (B09, C32, C33, G45-G47, L68, M71, M74, M75, N77, N78, N80, N81, S95)
get no cluster term in the data-generating process.
"""

from __future__ import annotations

DEMO_CLUSTER_GROUPS: dict[str, tuple[str, ...]] = {
    "agrifood": ("C10", "C11", "C12"),
    "textiles_fashion": ("C13", "C14", "C15"),
    "wood_furniture": ("C16", "C31"),
    "paper_print_media": ("C17", "C18", "J59", "J60"),
    "energy": ("B05", "B06", "C19", "D35"),
    "pharma_life_sciences": ("C20", "C21", "M72"),
    "metals_minerals": ("B07", "B08", "C23", "C24"),
    "automotive": ("C22", "C25", "C28", "C29"),
    "electronics_electrical": ("C26", "C27"),
    "aerospace_maritime": ("C30", "H50", "H51"),
    "environmental_services": ("E36", "E37", "E38", "E39"),
    "construction": ("F41", "F42", "F43"),
    "logistics": ("H49", "H52", "H53"),
    "tourism": ("I55", "I56", "N79"),
    "digital_ict": ("J58", "J61", "J62", "J63"),
    "financial_services": ("K64", "K65", "K66"),
    "business_services": ("M69", "M70", "M73", "N82"),
}
"""Demo cluster group name -> member divisions (Eurostat NACE Rev. 2 codes)."""

INDUSTRIAL_GROUPS: tuple[str, ...] = (
    "automotive", "metals_minerals", "electronics_electrical", "textiles_fashion",
    "wood_furniture", "pharma_life_sciences", "paper_print_media", "aerospace_maritime",
)
"""Manufacturing groups; each pilot region in industrial transition gets one of these planted."""


def group_of_division() -> dict[str, str]:
    """``{division: group}`` for the divisions that belong to a demo cluster group."""
    membership: dict[str, str] = {}
    for group, divisions in DEMO_CLUSTER_GROUPS.items():
        for division in divisions:
            if division in membership:
                raise ValueError(f"division {division} is in two demo groups")
            membership[division] = group
    return membership
