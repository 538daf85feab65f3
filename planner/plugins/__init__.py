"""The plugin system: hook specifications, the manager that loads entry points, and the
``ActivityType`` base. Plugin authors import :mod:`planner.api`, never this package.

May import: the shared base (config, enums; models only for type annotations). Not
``scheduling``, its independent sibling in the bottom layer, nor any room above.
"""
