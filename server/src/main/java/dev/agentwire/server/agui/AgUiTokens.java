package dev.agentwire.server.agui;

import java.nio.charset.StandardCharsets;

/**
 * The bytes AG-UI frames are made of, encoded once: field names with their quotes and colon ({@code "seq":}), each
 * event type's first member ({@code "type":"RUN_STARTED"}) and the literal values. Writing a frame copies these
 * (measured: encoding the names char by char was the mapping's largest cost).
 */
final class AgUiTokens
{
    static final byte[] AGENTWIRE = member("agentwire");
    static final byte[] BROADCAST = member("broadcast");
    static final byte[] CODE = member("code");
    static final byte[] CONTENT = member("content");
    static final byte[] DELTA = member("delta");
    static final byte[] EPOCH = member("epoch");
    static final byte[] FRAME = member("frame");
    static final byte[] FROM = member("from");
    static final byte[] ID = member("id");
    static final byte[] MESSAGE = member("message");
    static final byte[] MESSAGE_ID = member("messageId");
    static final byte[] METADATA = member("metadata");
    static final byte[] NAME = member("name");
    static final byte[] OPEN_RUNS = member("openRuns");
    static final byte[] OUTCOME = member("outcome");
    static final byte[] PART = member("part");
    static final byte[] PARTS = member("parts");
    static final byte[] PRELUDE = member("prelude");
    static final byte[] RECOVERED = member("recovered");
    static final byte[] RESULT = member("result");
    static final byte[] ROLE = member("role");
    static final byte[] ROOM = member("room");
    static final byte[] RUN_ID = member("runId");
    static final byte[] SEQ = member("seq");
    static final byte[] THREAD_ID = member("threadId");
    static final byte[] TIMESTAMP = member("timestamp");
    static final byte[] TO = member("to");
    static final byte[] TOOL_CALL_ID = member("toolCallId");
    static final byte[] TOOL_CALL_NAME = member("toolCallName");
    static final byte[] TYPE = member("type");
    static final byte[] USER = member("user");
    static final byte[] VALUE = member("value");
    static final byte[] TYPE_CUSTOM = bytes("\"type\":\"CUSTOM\"");
    static final byte[] TYPE_REASONING_END = bytes("\"type\":\"REASONING_END\"");
    static final byte[] TYPE_REASONING_MESSAGE_CONTENT = bytes("\"type\":\"REASONING_MESSAGE_CONTENT\"");
    static final byte[] TYPE_REASONING_MESSAGE_END = bytes("\"type\":\"REASONING_MESSAGE_END\"");
    static final byte[] TYPE_REASONING_MESSAGE_START = bytes("\"type\":\"REASONING_MESSAGE_START\"");
    static final byte[] TYPE_REASONING_START = bytes("\"type\":\"REASONING_START\"");
    static final byte[] TYPE_RUN_ERROR = bytes("\"type\":\"RUN_ERROR\"");
    static final byte[] TYPE_RUN_FINISHED = bytes("\"type\":\"RUN_FINISHED\"");
    static final byte[] TYPE_RUN_STARTED = bytes("\"type\":\"RUN_STARTED\"");
    static final byte[] TYPE_TEXT_MESSAGE_CONTENT = bytes("\"type\":\"TEXT_MESSAGE_CONTENT\"");
    static final byte[] TYPE_TEXT_MESSAGE_END = bytes("\"type\":\"TEXT_MESSAGE_END\"");
    static final byte[] TYPE_TEXT_MESSAGE_START = bytes("\"type\":\"TEXT_MESSAGE_START\"");
    static final byte[] TYPE_TEXT_MESSAGE_CHUNK = bytes("\"type\":\"TEXT_MESSAGE_CHUNK\"");
    static final byte[] TYPE_TOOL_CALL_ARGS = bytes("\"type\":\"TOOL_CALL_ARGS\"");
    static final byte[] TYPE_TOOL_CALL_END = bytes("\"type\":\"TOOL_CALL_END\"");
    static final byte[] TYPE_TOOL_CALL_RESULT = bytes("\"type\":\"TOOL_CALL_RESULT\"");
    static final byte[] TYPE_TOOL_CALL_START = bytes("\"type\":\"TOOL_CALL_START\"");
    static final byte[] AGENTWIRE_BINARY = bytes("\"agentwire.binary\"");
    static final byte[] AGENTWIRE_LIVE = bytes("\"agentwire.live\"");
    static final byte[] AGENT_ERROR = bytes("\"agent_error\"");
    static final byte[] ASSISTANT = bytes("\"assistant\"");
    static final byte[] CANCELLED = bytes("\"cancelled\"");
    static final byte[] EMPTY_STRING = bytes("\"\"");
    static final byte[] FALSE = bytes("false");
    static final byte[] NULL = bytes("null");
    static final byte[] NULL_TEXT = bytes("\"null\"");
    static final byte[] REASONING = bytes("\"reasoning\"");
    static final byte[] SUCCESS = bytes("\"success\"");
    static final byte[] TRUE = bytes("true");

    private AgUiTokens()
    {
    }

    /** @return {@code "name":} as bytes. */
    private static byte[] member(final String name)
    {
        return bytes('"' + name + "\":");
    }

    private static byte[] bytes(final String ascii)
    {
        return ascii.getBytes(StandardCharsets.US_ASCII);
    }
}
