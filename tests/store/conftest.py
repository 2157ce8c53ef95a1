from storefixtures import store_url  # noqa: F401
