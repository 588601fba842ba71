"""The REST API under ``/services/data/vNN.0/``: routes as plain functions of a request.

``dispatch.RestApi`` routes an :class:`wire.ApiRequest` to the handlers in ``sobjects``,
``query``, ``search``, ``composite``, ``collections``, ``tree`` and ``limits_resource``.
The HTTP side (auth, limits, faults) lives in :mod:`sfemu.app`.
"""
