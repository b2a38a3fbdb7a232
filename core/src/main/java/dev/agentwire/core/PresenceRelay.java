package dev.agentwire.core;

/**
 * Forwards presence changes to the listener the runtime registered, if any, and keeps a faulty listener from
 * taking its slice down.
 */
final class PresenceRelay implements PresenceListener
{
    private static final System.Logger LOG = System.getLogger(PresenceRelay.class.getName());

    private volatile PresenceListener listener;

    void listener(final PresenceListener listener)
    {
        this.listener = listener;
    }

    @Override
    public void onFirstConnected(final String userId)
    {
        final PresenceListener target = listener;
        if (target != null)
        {
            try
            {
                target.onFirstConnected(userId);
            }
            catch (final RuntimeException ex)
            {
                LOG.log(System.Logger.Level.WARNING, "presence listener failed: event=first_connected", ex);
            }
        }
    }

    @Override
    public void onLastDisconnected(final String userId)
    {
        final PresenceListener target = listener;
        if (target != null)
        {
            try
            {
                target.onLastDisconnected(userId);
            }
            catch (final RuntimeException ex)
            {
                LOG.log(System.Logger.Level.WARNING, "presence listener failed: event=last_disconnected", ex);
            }
        }
    }
}
