"""Fail-fast twins of pydantic models: the same fields and validators, but every list stops at its
first invalid item.

Pydantic collects every error of a document, and keeps each one (about 0.4 KB) until the whole
validation is done: a large file of invalid items (hundreds of thousands of values) would cost
gigabytes before the first problem could be shown. :func:`fail_fast_model` makes a subclass of a
model whose list fields (at any depth, through unions, optionals and nested models) are
``fail_fast`` and whose mappings are cut after their first invalid entry, so a validation reports
at most a handful of errors per list or mapping. A document is valid for the twin exactly when it
is valid for the model.
"""

from __future__ import annotations

import copy
import functools
import itertools
import types
from collections.abc import Callable
from typing import Annotated, Any, Union, cast, get_args, get_origin

from pydantic import BaseModel, BeforeValidator, Field, TypeAdapter, ValidationError, create_model

_ANNOTATED, _LIST, _TUPLE, _DICT = cast(Any, Annotated), cast(Any, list), cast(Any, tuple), cast(Any, dict)
"""Subscripted at run time with types computed here (mypy cannot check those)."""


def _fast(annotation: Any) -> Any:
    """``annotation`` with every list fail-fast and every model its twin."""
    origin = get_origin(annotation)
    args = get_args(annotation)
    if origin is Annotated:
        return _ANNOTATED[(_fast(args[0]), *args[1:])]
    if origin in (Union, types.UnionType):
        return functools.reduce(lambda a, b: a | b, (_fast(arg) for arg in args))
    if origin is list:
        return _ANNOTATED[_LIST[_fast(args[0])], Field(fail_fast=True)]
    if origin is tuple:
        return _TUPLE[tuple(arg if arg is Ellipsis else _fast(arg) for arg in args)]
    if origin is dict:
        twin = _DICT[args[0], _fast(args[1])]
        return _ANNOTATED[twin, BeforeValidator(_up_to_first_bad_item(TypeAdapter(twin)))]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return fail_fast_model(annotation)
    return annotation


def _up_to_first_bad_item(adapter: TypeAdapter[Any]) -> Callable[[Any], Any]:
    """A mapping cut after its first invalid entry (pydantic has no fail-fast for dicts)."""
    def cut(data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        for count, (key, value) in enumerate(data.items(), start=1):
            try:
                adapter.validate_python({key: value})
            except ValidationError:
                return dict(itertools.islice(data.items(), count))
        return data
    return cut


@functools.cache
def fail_fast_model(model: type[BaseModel]) -> type[BaseModel]:
    """The fail-fast twin of ``model`` (a subclass: its validators and config are inherited)."""
    changed: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        annotation = _fast(info.annotation)
        if annotation != info.annotation:
            twin_info = copy.copy(info)  # keeps the default, alias and constraints
            changed[name] = (annotation, twin_info)
    if not changed:
        return model
    return cast(type[BaseModel], create_model(f"{model.__name__}FailFast", __base__=model,
                                              __module__=model.__module__, **changed))
