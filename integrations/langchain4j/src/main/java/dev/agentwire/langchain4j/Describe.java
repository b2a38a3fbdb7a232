package dev.agentwire.langchain4j;

/** How an error reads in an event: its class and message, once. */
final class Describe
{
    private Describe()
    {
    }

    static String error(final Throwable error)
    {
        return error.getMessage() == null ? error.getClass().getSimpleName() :
            error.getClass().getSimpleName() + ": " + error.getMessage();
    }
}
