package dev.agentwire.server;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.util.ArrayList;
import java.util.List;

/**
 * What a test started, closed in the reverse order when it ends: a node before the Redis it uses. Every one is
 * closed even when an earlier one fails; the first failure is thrown, with the others suppressed in it. Registered
 * on a test class ({@code @RegisterExtension}), it closes after each test, after the class's own {@code @AfterEach}.
 */
final class Closing implements AutoCloseable, AfterEachCallback
{
    private final List<AutoCloseable> started = new ArrayList<>();

    /** @return the resource, to be closed with the others. */
    <T extends AutoCloseable> T add(final T resource)
    {
        started.add(resource);
        return resource;
    }

    @Override
    public void afterEach(final ExtensionContext context) throws Exception
    {
        close();
    }

    @Override
    public void close() throws Exception
    {
        Exception first = null;
        for (int i = started.size() - 1; i >= 0; i--)
        {
            try
            {
                started.get(i).close();
            }
            catch (final Exception ex)
            {
                if (first == null)
                {
                    first = ex;
                }
                else
                {
                    first.addSuppressed(ex);
                }
            }
        }
        started.clear();
        if (first != null)
        {
            throw first;
        }
    }
}
