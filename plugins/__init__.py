"""First-party strategy plugins of autokeras_nas.

Each subpackage registers itself in the entry-point group
`autokeras_nas.strategies` and uses only the public API of `autokeras_nas`,
exactly as a third-party plugin would.
"""
