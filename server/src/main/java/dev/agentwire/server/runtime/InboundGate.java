package dev.agentwire.server.runtime;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A rule a user's message must pass before any runtime sees it ({@link InboundRouter#submit}): AG-UI's interrupt
 * rules, kept where the run states are (agui). It may decide at once, or after asking the cluster.
 */
public interface InboundGate
{
    /** Lets every message through. */
    InboundGate OPEN = (userId, type, message, verdict) -> verdict.decided(null, null, null);

    /** Told once, on any thread. */
    @FunctionalInterface
    interface Verdict
    {
        /**
         * @param code     null: the message may go on; else the refusal's code (the user's error code).
         * @param message  why, for the user.
         * @param giveBack null, or what undoes what admitting the message changed (an interrupt marked answered),
         *                 run when no runtime took the message after all.
         */
        void decided(String code, String message, Runnable giveBack);
    }

    /**
     * @param userId  the authenticated sender.
     * @param type    the message type.
     * @param message the parsed message.
     * @param verdict told the decision once.
     */
    void admit(String userId, String type, JsonNode message, Verdict verdict);
}
