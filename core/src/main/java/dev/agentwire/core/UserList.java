package dev.agentwire.core;

/**
 * An intrusive doubly linked list of users ordered by recency (least recent at the head), with O(1) touch and
 * removal and no allocation. A slice keeps two: by last activity (retention of absent users) and by last append
 * (age trimming and the global history memory bound). Single-threaded.
 */
final class UserList
{
    private final boolean historyLinks;
    private UserStream head;
    private UserStream tail;
    private int size;

    UserList(final boolean historyLinks)
    {
        this.historyLinks = historyLinks;
    }

    UserStream head()
    {
        return head;
    }

    int size()
    {
        return size;
    }

    /** Moves the user to the tail (most recent), adding it if absent. */
    void touch(final UserStream user)
    {
        if (contains(user))
        {
            if (tail == user)
            {
                return;
            }
            remove(user);
        }
        setPrev(user, tail);
        setNext(user, null);
        if (tail == null)
        {
            head = user;
        }
        else
        {
            setNext(tail, user);
        }
        tail = user;
        setContained(user, true);
        size++;
    }

    void remove(final UserStream user)
    {
        if (!contains(user))
        {
            return;
        }
        final UserStream prev = prev(user);
        final UserStream next = next(user);
        if (prev == null)
        {
            head = next;
        }
        else
        {
            setNext(prev, next);
        }
        if (next == null)
        {
            tail = prev;
        }
        else
        {
            setPrev(next, prev);
        }
        setPrev(user, null);
        setNext(user, null);
        setContained(user, false);
        size--;
    }

    boolean contains(final UserStream user)
    {
        return historyLinks ? user.inHistoryList : user.inActivityList;
    }

    private void setContained(final UserStream user, final boolean value)
    {
        if (historyLinks)
        {
            user.inHistoryList = value;
        }
        else
        {
            user.inActivityList = value;
        }
    }

    private UserStream prev(final UserStream user)
    {
        return historyLinks ? user.historyPrev : user.activityPrev;
    }

    private UserStream next(final UserStream user)
    {
        return historyLinks ? user.historyNext : user.activityNext;
    }

    private void setPrev(final UserStream user, final UserStream value)
    {
        if (historyLinks)
        {
            user.historyPrev = value;
        }
        else
        {
            user.activityPrev = value;
        }
    }

    private void setNext(final UserStream user, final UserStream value)
    {
        if (historyLinks)
        {
            user.historyNext = value;
        }
        else
        {
            user.activityNext = value;
        }
    }
}
