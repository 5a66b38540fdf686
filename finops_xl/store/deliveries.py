"""Provider delivery manifests, for callers that import them from here: they live in
``finops_xl.deliveries``, beside the input files they govern."""

from finops_xl.deliveries import (  # noqa: F401
    AWS_MANIFEST_SUFFIX,
    AZURE_MANIFEST_NAME,
    Delivery,
    deliveries,
    is_manifest,
    read_manifest,
)
