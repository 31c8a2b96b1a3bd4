"""An app as LangChain users write it: langchain-openai's ChatOpenAI with
temperature=0, pointed at the sidecar (base_url), calling a route.

    python langchain_chat.py MODEL

Makes one invoke and one stream, and prints what it saw as one JSON line
for the test to check. Any error ends the script with the SDK's exception.
"""
import json
import os
import sys

import langchain_openai
from langchain_openai import ChatOpenAI


def main(model):
    llm = ChatOpenAI(
        model=model,
        temperature=0,
        base_url=os.environ["LLMROUTE_BASE_URL"],
        api_key="app-key-that-must-not-travel",
        max_retries=0,
    )
    reply = llm.invoke("Say hello.")
    text = "".join(chunk.content for chunk in llm.stream("Say hello."))
    print(json.dumps({
        "sdk": "langchain-openai " + langchain_openai.__version__,
        "invoke": {
            "content": reply.content,
            "finish_reason": reply.response_metadata.get("finish_reason"),
        },
        "stream": {"text": text},
    }))


if __name__ == "__main__":
    main(sys.argv[1])
