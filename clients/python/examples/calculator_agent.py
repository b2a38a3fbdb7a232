"""A runnable agent: takes each user's prompt from AgentWire, thinks, calls a calculator tool, answers.

    AGENTWIRE_PRODUCER_KEY=… python3 examples/calculator_agent.py http://127.0.0.1:8080

Then send a prompt as a user (the demo page, or any client of /v1/ws or /v1/ag-ui): "what is 17*23?".
"""

from __future__ import annotations

import ast
import asyncio
import operator
import re
import sys

from agentwire import AsyncClient, Inbound

OPERATORS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}


def calculate(expression: str) -> float:
    """+ - * / on numbers, nothing else (no eval)."""
    def value(node: ast.AST) -> float:
        if isinstance(node, ast.BinOp) and type(node.op) in OPERATORS:
            return OPERATORS[type(node.op)](value(node.left), value(node.right))
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return node.value
        raise ValueError(f"not arithmetic: {expression}")
    return value(ast.parse(expression, mode="eval").body)


async def answer(client: AsyncClient, message: Inbound) -> None:
    found = re.search(r"[\d\s.+\-*/()]*\d[\d\s.+\-*/()]*", message.text or "")
    async with client.run(user=message.user, thread_id=message.thread_id, run_id=message.run_id,
                          agent="calculator") as run:
        await run.thinking(f"Reading “{message.text}”. ")
        if not found:
            run.complete("Ask me some arithmetic, like 17*23.")
            return
        expression = found.group().strip()
        async with run.tool("calculator", {"expression": expression}) as call:
            call.result = calculate(expression)
        run.complete(f"{expression} = {call.result:g}")


async def main(url: str) -> None:
    running: set[asyncio.Task[None]] = set()  # kept until done: the loop holds tasks only weakly
    async with AsyncClient(url) as client:
        print(f"calculator agent connected to {url}; waiting for prompts", flush=True)
        async for message in client.messages():
            if message.type == "user_message":
                task = asyncio.get_running_loop().create_task(answer(client, message))
                running.add(task)
                task.add_done_callback(running.discard)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8080"))
