"""Sample filters of the regression registry: a small grammar, parsed and interpreted, never run.

A specification may restrict its estimation sample, e.g. ``sample: "employment_t0 >= 10 and
own_estimated == 0"``. Registry files are shared between economists, so the filter is data,
not code: it is parsed into a tree of the few constructs below and that tree is interpreted on
the sample's columns. Nothing in it is ever handed to ``eval``, ``DataFrame.eval`` or
``DataFrame.query`` (which resolve ``@names`` in the caller's scope and, with the python
engine, run arbitrary expressions).

Grammar (Python / pandas-query spelling)::

    filter     := expression
    expression := expression ("and" | "or" | "&" | "|") expression
                | ("not" | "~") expression
                | "(" expression ")"
                | operand comparison operand [comparison operand ...]   # chains: 1 < x <= 5
                | column ".isin(" list ")"
    comparison := "==" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "not in"  (in: list on the right)
    operand    := column | constant
    list       := "[" constant ("," constant)* "]"  (or a tuple)
    column     := a column name of the estimation sample
    constant   := a number (optionally negative), a quoted string, True or False

Missing values follow pandas: a comparison with a missing value is false except ``!=``, and a
row whose filter value is missing is dropped. Limits: at most :data:`MAX_LENGTH` characters and
nesting :data:`MAX_DEPTH` deep (a longer filter is refused, not parsed).

Anything else (attribute access other than ``.isin``, calls, subscripts, arithmetic,
``@names``, lambdas, comprehensions, f-strings, dunder names) raises
:class:`SampleFilterError` naming the specification and the construct.
"""

from __future__ import annotations

import ast
import dataclasses
import operator
from typing import Callable, Union

import numpy as np
import pandas as pd

from eocic.errors import EocicError

#: Longest filter accepted, in characters.
MAX_LENGTH = 1000
#: Deepest nesting of the parsed filter accepted.
MAX_DEPTH = 40

GRAMMAR_HINT = ("a filter compares columns with constants (== != < <= > >= in, not in), combines "
                "them with and / or / not (or & | ~) and may use column.isin([...])")


class SampleFilterError(EocicError, ValueError):
    """A sample filter is outside the grammar or names a column the sample lacks; the message
    names the specification, the construct and what is allowed."""


# -- the parsed tree ------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Column:
    name: str


@dataclasses.dataclass(frozen=True)
class Constant:
    value: object


@dataclasses.dataclass(frozen=True)
class Members:
    """A list of constants (right side of ``in`` and argument of ``isin``)."""
    values: tuple


@dataclasses.dataclass(frozen=True)
class Comparison:
    operator: str
    left: Union[Column, Constant]
    right: Union[Column, Constant, Members]


@dataclasses.dataclass(frozen=True)
class Logical:
    operator: str            # "and" | "or"
    operands: tuple


@dataclasses.dataclass(frozen=True)
class Negation:
    operand: object


Node = Union[Comparison, Logical, Negation]

_COMPARISONS: dict[type, str] = {
    ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
    ast.In: "in", ast.NotIn: "not in",
}
_APPLY: dict[str, Callable[[pd.Series, object], pd.Series]] = {
    "==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
    ">": operator.gt, ">=": operator.ge,
}


class _Parser:
    """Turns a Python expression tree into the filter tree, refusing every other construct."""

    def __init__(self, text: str, where: str):
        self.text = text
        self.where = where

    def refuse(self, node: ast.AST, why: str) -> SampleFilterError:
        source = ast.get_source_segment(self.text, node) or type(node).__name__
        return SampleFilterError(f"{self.where}: sample filter {self.text!r}: {why} "
                                 f"({source!r}); {GRAMMAR_HINT}")

    def condition(self, node: ast.AST, depth: int = 0) -> Node:
        if depth > MAX_DEPTH:
            raise self.refuse(node, f"nested more than {MAX_DEPTH} levels")
        if isinstance(node, ast.BoolOp):
            name = "and" if isinstance(node.op, ast.And) else "or"
            return Logical(name, tuple(self.condition(v, depth + 1) for v in node.values))
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.BitAnd, ast.BitOr)):
            name = "and" if isinstance(node.op, ast.BitAnd) else "or"
            return Logical(name, (self.condition(node.left, depth + 1),
                                  self.condition(node.right, depth + 1)))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Not, ast.Invert)):
            return Negation(self.condition(node.operand, depth + 1))
        if isinstance(node, ast.Compare):
            return self.comparison(node)
        if isinstance(node, ast.Call):
            return self.isin(node)
        raise self.refuse(node, "not a condition")

    def comparison(self, node: ast.Compare) -> Node:
        operands = [node.left, *node.comparators]
        links = []
        for op, left, right in zip(node.ops, operands, operands[1:]):
            symbol = _COMPARISONS.get(type(op))
            if symbol is None:
                raise self.refuse(node, f"comparison {type(op).__name__} is not allowed")
            if symbol in ("in", "not in"):
                links.append(Comparison(symbol, self.operand(left), self.members(right)))
            else:
                links.append(Comparison(symbol, self.operand(left), self.operand(right)))
        return links[0] if len(links) == 1 else Logical("and", tuple(links))

    def isin(self, node: ast.Call) -> Node:
        function = node.func
        if not (isinstance(function, ast.Attribute) and function.attr == "isin"
                and isinstance(function.value, ast.Name)):
            raise self.refuse(node, "only column.isin([...]) may be called")
        if node.keywords or len(node.args) != 1:
            raise self.refuse(node, "isin takes one list of constants")
        return Comparison("in", self.column(function.value), self.members(node.args[0]))

    def operand(self, node: ast.AST) -> Column | Constant:
        if isinstance(node, ast.Name):
            return self.column(node)
        return Constant(self.constant(node))

    def column(self, node: ast.Name) -> Column:
        if node.id.startswith("__"):
            raise self.refuse(node, "names starting with '__' are not columns")
        return Column(node.id)

    def constant(self, node: ast.AST) -> object:
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            value = self.constant(node.operand)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return -value
            raise self.refuse(node, "only a number can be negated")
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str, bool)) \
                and not isinstance(node.value, complex):
            return node.value
        raise self.refuse(node, "not a column or a constant")

    def members(self, node: ast.AST) -> Members:
        if not isinstance(node, (ast.List, ast.Tuple)):
            raise self.refuse(node, "'in' and isin need a list of constants")
        return Members(tuple(self.constant(element) for element in node.elts))


def _columns_of(node) -> set[str]:
    if isinstance(node, Column):
        return {node.name}
    if isinstance(node, Comparison):
        return _columns_of(node.left) | _columns_of(node.right)
    if isinstance(node, Logical):
        return set().union(*(_columns_of(operand) for operand in node.operands))
    if isinstance(node, Negation):
        return _columns_of(node.operand)
    return set()


def _renamed(node, names: dict[str, str]):
    if isinstance(node, Column):
        return Column(names.get(node.name, node.name))
    if isinstance(node, Comparison):
        return Comparison(node.operator, _renamed(node.left, names), _renamed(node.right, names))
    if isinstance(node, Logical):
        return Logical(node.operator, tuple(_renamed(o, names) for o in node.operands))
    if isinstance(node, Negation):
        return Negation(_renamed(node.operand, names))
    return node


def _text_of(node, top: bool = True) -> str:
    if isinstance(node, Column):
        return node.name
    if isinstance(node, Constant):
        return repr(node.value)
    if isinstance(node, Members):
        return "[" + ", ".join(repr(v) for v in node.values) + "]"
    if isinstance(node, Comparison):
        return f"{_text_of(node.left)} {node.operator} {_text_of(node.right)}"
    if isinstance(node, Negation):
        return f"not ({_text_of(node.operand)})"
    text = f" {node.operator} ".join(_text_of(o, top=False) for o in node.operands)
    return text if top else f"({text})"


@dataclasses.dataclass(frozen=True)
class SampleFilter:
    """A parsed sample filter (see the module docstring for the grammar).

    Build it with :meth:`parse`; :meth:`mask` evaluates it on a sample, :meth:`rename` swaps
    column names (a proxy for an unavailable variable), ``str()`` gives canonical text.
    """

    text: str
    tree: object

    @classmethod
    def parse(cls, text: str, where: str = "specification") -> "SampleFilter":
        """Parse ``text``; ``where`` names the specification in error messages.

        Raises
        ------
        SampleFilterError
            Text longer than :data:`MAX_LENGTH`, not an expression, or a construct outside
            the grammar.
        """
        if not isinstance(text, str):
            raise SampleFilterError(f"{where}: sample filter must be a string, not "
                                    f"{type(text).__name__}; {GRAMMAR_HINT}")
        if len(text) > MAX_LENGTH:
            raise SampleFilterError(f"{where}: sample filter is {len(text)} characters long; "
                                    f"at most {MAX_LENGTH} are accepted")
        try:
            expression = ast.parse(text.strip(), mode="eval")
        except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
            raise SampleFilterError(f"{where}: sample filter {text!r} is not an expression "
                                    f"({type(error).__name__}: {error}); {GRAMMAR_HINT}") from None
        tree = _Parser(text.strip(), where).condition(expression.body)
        return cls(text=text, tree=tree)

    @property
    def columns(self) -> set[str]:
        """Column names the filter reads."""
        return _columns_of(self.tree)

    def rename(self, names: dict[str, str]) -> "SampleFilter":
        """The same filter with columns renamed by ``names`` (``{original: replacement}``)."""
        if not names.keys() & self.columns:
            return self
        tree = _renamed(self.tree, names)
        return SampleFilter(text=_text_of(tree), tree=tree)

    def __str__(self) -> str:
        return self.text

    def mask(self, frame: pd.DataFrame, where: str = "specification") -> pd.Series:
        """Boolean Series over ``frame.index``: True where the filter holds (missing -> False).

        Raises
        ------
        SampleFilterError
            A column the filter names is not in ``frame``.
        """
        missing = sorted(self.columns - set(frame.columns))
        if missing:
            raise SampleFilterError(
                f"{where}: sample filter {self.text!r} names column(s) {', '.join(missing)} "
                f"that the sample does not have; columns: {', '.join(map(str, frame.columns))}")
        return self._evaluate(self.tree, frame).fillna(False).astype(bool)

    def _evaluate(self, node, frame: pd.DataFrame) -> pd.Series:
        if isinstance(node, Logical):
            parts = [self._evaluate(o, frame).fillna(False).astype(bool) for o in node.operands]
            combine = np.logical_and if node.operator == "and" else np.logical_or
            return pd.Series(combine.reduce([p.to_numpy() for p in parts]), index=frame.index)
        if isinstance(node, Negation):
            return ~self._evaluate(node.operand, frame).fillna(False).astype(bool)
        left = self._value(node.left, frame)
        if node.operator in ("in", "not in"):
            inside = pd.Series(left, index=frame.index).isin(list(node.right.values))
            return inside if node.operator == "in" else ~inside
        right = self._value(node.right, frame)
        try:
            result = _APPLY[node.operator](left, right)
        except TypeError as error:   # e.g. a text column compared with a number
            raise SampleFilterError(
                f"sample filter {self.text!r}: {_text_of(node)} compares values of different "
                f"types ({error}); compare a column with a constant of its type") from None
        if not isinstance(result, pd.Series):   # constant against constant
            return pd.Series(bool(result), index=frame.index)
        return result

    @staticmethod
    def _value(operand, frame: pd.DataFrame):
        return frame[operand.name] if isinstance(operand, Column) else operand.value
