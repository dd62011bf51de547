"""The Logs Insights parser: query text -> a list of commands (syntax.py's tree).

    parse("fields @timestamp | filter x > 1 | limit 5") -> [Fields, Filter, Limit]

Recursive descent, one method per precedence level: or, and, not, comparison (also `like`,
`=~` and `in`), additive, multiplicative, power, unary, primary.
"""

from __future__ import annotations

from cloudlet.services.logs.insights.errors import MalformedQuery
from cloudlet.services.logs.insights.syntax import (
    Binary,
    Call,
    Command,
    Dedup,
    Duration,
    Field,
    Fields,
    Filter,
    InList,
    Item,
    Like,
    Limit,
    Literal,
    Parse,
    Pattern,
    Regex,
    Sort,
    Stats,
    Token,
    Unary,
    tokenize,
)

COMPARISONS = {"=", "==", "!=", "<", ">", "<=", ">="}
COMMANDS = {"fields", "display", "filter", "stats", "sort", "limit", "parse", "dedup", "unmask",
            "pattern"}


def parse(text: str) -> list[Command]:
    return Parser(text).query()


class Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0

    # --- token helpers ---

    def peek(self, ahead: int = 0) -> Token | None:
        j = self.i + ahead
        return self.tokens[j] if j < len(self.tokens) else None

    def at(self, *kinds: str) -> bool:
        tok = self.peek()
        return tok is not None and (tok.kind in kinds or
                                    (tok.kind == "keyword" and tok.text in kinds))

    def take(self) -> Token:
        tok = self.peek()
        if tok is None:
            self.fail_end()
        self.i += 1
        return tok

    def expect(self, kind: str) -> Token:
        if not self.at(kind):
            self.fail(self.peek())
        return self.take()

    def accept(self, kind: str) -> Token | None:
        return self.take() if self.at(kind) else None

    def fail(self, tok: Token | None, why: str = ""):
        if tok is None:
            self.fail_end()
        line = self.text.count("\n", 0, tok.start) + 1
        raise MalformedQuery(why or f"unexpected symbol found {tok.text} at line {line} and "
                             f"position {tok.start}", tok.start, tok.end)

    def fail_end(self):
        end = max(len(self.text) - 1, 0)
        raise MalformedQuery("unexpected end of query", end, end)

    def source(self, start: int, end: int) -> str:
        return self.text[start:end + 1]

    # --- commands ---

    def query(self) -> list[Command]:
        if not self.tokens:
            raise MalformedQuery("Query string must not be empty", 0, 0)
        commands = [self.command()]
        while self.accept("|"):
            commands.append(self.command())
        if self.peek() is not None:
            self.fail(self.peek())
        return commands

    def command(self) -> Command:
        tok = self.take()
        name = tok.text.lower()
        if tok.kind != "ident" or name not in COMMANDS:
            self.fail(tok, f"unexpected symbol found {tok.text} at line "
                      f"{self.text.count(chr(10), 0, tok.start) + 1} and position {tok.start}; "
                      "expected a command")
        cmd = getattr(self, f"command_{name}")(tok)
        last = self.tokens[self.i - 1]
        cmd.start, cmd.end, cmd.name = tok.start, last.end, name
        return cmd

    def command_fields(self, tok: Token) -> Fields:
        return Fields(0, 0, "", items=self.items())

    command_display = command_fields

    def command_filter(self, tok: Token) -> Filter:
        return Filter(0, 0, "", condition=self.expr())

    def command_stats(self, tok: Token) -> Stats:
        aggregates = self.items()
        groups = self.items() if self.accept("by") else []
        return Stats(0, 0, "", aggregates=aggregates, groups=groups)

    def command_sort(self, tok: Token) -> Sort:
        keys = []
        while True:
            expr = self.expr()
            desc = False
            if self.accept("desc"):
                desc = True
            else:
                self.accept("asc")
            keys.append((expr, desc))
            if not self.accept(","):
                return Sort(0, 0, "", keys=keys)

    def command_limit(self, tok: Token) -> Limit:
        num = self.expect("number")
        if not isinstance(num.value, int) or num.value < 1:
            self.fail(num, f"limit must be a positive integer, found {num.text}")
        return Limit(0, 0, "", count=num.value)

    def command_parse(self, tok: Token) -> Parse:
        source = self.expr_additive()
        pat = self.take()
        if pat.kind == "regex":
            return Parse(0, 0, "", source=source, pattern=pat.value, regex=True)
        if pat.kind != "string":
            self.fail(pat)
        names = []
        if self.accept("as"):
            names.append(self.field_name(self.expect("ident")))
            while self.accept(","):
                names.append(self.field_name(self.expect("ident")))
        if pat.value.count("*") != len(names):
            self.fail(pat, f"the parse pattern has {pat.value.count('*')} wildcards but "
                      f"{len(names)} field names")
        return Parse(0, 0, "", source=source, pattern=pat.value, names=names)

    def command_dedup(self, tok: Token) -> Dedup:
        keys = [self.expr()]
        while self.accept(","):
            keys.append(self.expr())
        return Dedup(0, 0, "", keys=keys)

    def command_unmask(self, tok: Token) -> Fields:
        # Data-protection unmasking: Cloudlet never masks, so the fields are shown as they are.
        return Fields(0, 0, "", items=self.items() if not self.at("|") and self.peek() else [])

    def command_pattern(self, tok: Token) -> Pattern:
        return Pattern(0, 0, "", source=self.expr())

    def items(self) -> list[Item]:
        out = [self.item()]
        while self.accept(","):
            out.append(self.item())
        return out

    def item(self) -> Item:
        expr = self.expr()
        alias = None
        if self.accept("as"):
            alias = self.field_name(self.expect("ident"))
        return Item(expr, alias, self.source(expr.start, expr.end))

    @staticmethod
    def field_name(tok: Token) -> str:
        return tok.value if tok.value is not None else tok.text

    # --- expressions ---

    def expr(self):
        left = self.expr_and()
        while self.at("or"):
            self.take()
            right = self.expr_and()
            left = Binary(left.start, right.end, "or", left, right)
        return left

    def expr_and(self):
        left = self.expr_not()
        while self.at("and"):
            self.take()
            right = self.expr_not()
            left = Binary(left.start, right.end, "and", left, right)
        return left

    def expr_not(self):
        if self.at("not", "!"):
            tok = self.take()
            operand = self.expr_not()
            return Unary(tok.start, operand.end, "not", operand)
        return self.expr_comparison()

    def expr_comparison(self):
        left = self.expr_additive()
        negated = False
        if self.at("not") and self.peek(1) is not None and self.peek(1).text in ("like", "in"):
            self.take()
            negated = True
        if self.at("like", "=~"):
            self.take()
            pat = self.take()
            if pat.kind == "string":
                pattern = Literal(pat.start, pat.end, pat.value)
            elif pat.kind == "regex":
                pattern = Regex(pat.start, pat.end, pat.value)
            else:
                self.fail(pat)
            return Like(left.start, pat.end, left, pattern, negated)
        if self.at("in"):
            self.take()
            self.expect("[")
            items = []
            if not self.at("]"):
                items.append(self.expr_additive())
                while self.accept(","):
                    items.append(self.expr_additive())
            close = self.expect("]")
            return InList(left.start, close.end, left, items, negated)
        if negated:
            self.fail(self.peek())
        if self.peek() is not None and self.peek().kind in COMPARISONS:
            op = self.take().kind
            right = self.expr_additive()
            return Binary(left.start, right.end, "=" if op == "==" else op, left, right)
        return left

    def expr_additive(self):
        left = self.expr_multiplicative()
        while self.at("+", "-"):
            op = self.take().kind
            right = self.expr_multiplicative()
            left = Binary(left.start, right.end, op, left, right)
        return left

    def expr_multiplicative(self):
        left = self.expr_power()
        while self.at("*", "/", "%"):
            op = self.take().kind
            right = self.expr_power()
            left = Binary(left.start, right.end, op, left, right)
        return left

    def expr_power(self):
        left = self.expr_unary()
        if self.at("^"):
            self.take()
            right = self.expr_power()
            return Binary(left.start, right.end, "^", left, right)
        return left

    def expr_unary(self):
        if self.at("-"):
            tok = self.take()
            operand = self.expr_unary()
            return Unary(tok.start, operand.end, "-", operand)
        return self.primary()

    def primary(self):
        tok = self.take()
        if tok.kind in ("number", "string"):
            return Literal(tok.start, tok.end, tok.value)
        if tok.kind == "keyword" and tok.text in ("true", "false"):
            return Literal(tok.start, tok.end, tok.text == "true")
        if tok.kind == "regex":
            return Regex(tok.start, tok.end, tok.value)
        if tok.kind == "duration":
            amount, unit = tok.value
            return Duration(tok.start, tok.end, amount, unit)
        if tok.kind == "(":
            inner = self.expr()
            close = self.expect(")")
            inner.start, inner.end = tok.start, close.end
            return inner
        if tok.kind == "ident":
            if self.at("(") and not tok.text.startswith("`"):
                return self.call(tok)
            return self.field(tok)
        self.fail(tok)

    def field(self, tok: Token):
        name, end = self.field_name(tok), tok.end
        while self.at("[", "member"):     # arr[0].id is the flattened field arr.0.id
            if self.at("member"):
                member = self.take()
                name, end = name + member.text, member.end
                continue
            self.take()
            index = self.expect("number")
            close = self.expect("]")
            name, end = f"{name}.{index.text}", close.end
        return Field(tok.start, end, name)

    def call(self, tok: Token) -> Call:
        self.expect("(")
        args = []
        if not self.at(")"):
            args.append(self.argument())
            while self.accept(","):
                args.append(self.argument())
        close = self.expect(")")
        return Call(tok.start, close.end, tok.text, args, self.source(tok.start, close.end))

    def argument(self):
        if self.at("*") and self.peek(1) is not None and self.peek(1).kind in (")", ","):
            tok = self.take()
            return Literal(tok.start, tok.end, "*")
        return self.expr()
