package dev.agentwire.core;

import com.lmax.disruptor.RingBuffer;
import com.lmax.disruptor.dsl.Disruptor;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.domain.JavaModifier;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Set;
import java.util.TreeSet;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The single-source-of-truth rules, enforced so that a second "manager" cannot creep in.
 */
class ArchitectureTest
{
    private static JavaClasses core;

    @BeforeAll
    static void importCore()
    {
        core = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.agentwire");
    }

    @Test
    void shouldNotReachAnyServerOrNetworkPackage()
    {
        noClasses().should().dependOnClassesThat().resideInAnyPackage(
                "dev.agentwire.server..", "io.undertow..", "org.xnio..", "java.net..", "java.nio.channels..",
                "javax.servlet..", "jakarta.servlet..", "io.netty..")
            .because("core is embeddable: the network belongs to the server module")
            .check(core);
    }

    @Test
    void shouldDependOnlyOnTheJdkDisruptorAndAgrona()
    {
        classes().should().onlyDependOnClassesThat().resideInAnyPackage(
                "dev.agentwire..", "java..", "com.lmax.disruptor..", "org.agrona..")
            .check(core);
    }

    @Test
    void shouldLetOnlyTheSpineTouchTheRingBuffer()
    {
        noClasses().that().doNotHaveFullyQualifiedName(EventSpine.class.getName())
            .and().doNotHaveFullyQualifiedName(EventSpine.class.getName() + "$SliceExceptionHandler")
            .should().dependOnClassesThat().belongToAnyOf(RingBuffer.class, Disruptor.class)
            .because("one spine: every event and command is claimed and published in EventSpine alone")
            .check(core);
    }

    @Test
    void shouldHaveExactlyOneOwnerOfTheSubscriberRegistry()
    {
        // The registry is the users with their streams, histories and subscriptions: only the slice's classes
        // (one per role, all on the slice's thread) may hold them, and only Subscribers may add or remove a
        // subscription. Readers see a stream only through its published StreamIndex.
        noClasses().that().doNotBelongToAnyOf(SLICE_CLASSES)
            .should().dependOnClassesThat().belongToAnyOf(UserStream.class)
            .because("only the slice's classes touch user streams")
            .check(core);
        noClasses().that().doNotHaveFullyQualifiedName(Subscribers.class.getName())
            .should().callMethod(UserStream.class, "addSubscription", Subscription.class)
            .orShould().callMethod(UserStream.class, "removeSubscription", Subscription.class)
            .check(core);
        classes().that().areAssignableTo(com.lmax.disruptor.EventHandler.class)
            .should().haveFullyQualifiedName(SliceHandler.class.getName())
            .check(core);
    }

    /** The slice: one class per role on the slice's thread. */
    private static final Class<?>[] SLICE_CLASSES = {SliceHandler.class, UserTable.class, SliceHistory.class,
        SliceHistory.TrimListener.class, RoomTable.class, Subscribers.class, ReplicaFollower.class, UserStream.class,
        UserTable.Overflow.class,
        UserList.class};

    @Test
    void shouldExposeOnlyTheFacadeAndItsValueAndSpiTypes()
    {
        final Set<String> expected = new TreeSet<>(Set.of(
            "AgentWire", "AgentWireConfig", "AgentWireConfig$Builder", "AgentWireConfig$WaitStrategy",
            "AgentWireConfig$LifecycleMode", "AgentWireStats", "AgentEvent", "EventDraft", "EventTypes", "Outcome",
            "PublishStatus", "CloseReason", "Subscription", "SubscriberListener", "SubscriptionHandler",
            "InboundHandler", "PresenceListener", "PublishReceipt", "HistorySource", "Backfill", "FrameEncoder",
            "FrameSink", "Utf8"));
        final Set<String> actual = new TreeSet<>();
        core.stream()
            .filter(c -> c.getPackageName().equals("dev.agentwire.core"))
            .filter(c -> c.getModifiers().contains(JavaModifier.PUBLIC))
            .forEach(c -> actual.add(c.getName().substring("dev.agentwire.core.".length())));
        assertEquals(expected, actual);
    }

    @Test
    void shouldKeepPublicClassesFinal()
    {
        classes().that().arePublic().and().areNotInterfaces().and().areNotEnums()
            .should().haveModifier(JavaModifier.FINAL)
            .check(core);
    }
}
