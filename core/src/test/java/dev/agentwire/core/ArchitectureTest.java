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
        // The registry is the user map and the connected list, with the streams that hold subscriptions:
        // only the slice may hold them, and only the slice may add or remove a subscription.
        noClasses().that().doNotHaveFullyQualifiedName(SliceHandler.class.getName())
            .and().doNotHaveFullyQualifiedName(UserStream.class.getName())
            .and().doNotHaveFullyQualifiedName(UserList.class.getName())
            .should().dependOnClassesThat().belongToAnyOf(UserStream.class)
            .check(core);
        noClasses().that().doNotHaveFullyQualifiedName(SliceHandler.class.getName())
            .should().callMethod(UserStream.class, "addSubscription", Subscription.class)
            .orShould().callMethod(UserStream.class, "removeSubscription", Subscription.class)
            .check(core);
        classes().that().areAssignableTo(com.lmax.disruptor.EventHandler.class)
            .should().haveFullyQualifiedName(SliceHandler.class.getName())
            .check(core);
    }

    @Test
    void shouldExposeOnlyTheFacadeAndItsValueAndSpiTypes()
    {
        final Set<String> expected = new TreeSet<>(Set.of(
            "AgentWire", "AgentWireConfig", "AgentWireConfig$Builder", "AgentWireConfig$WaitStrategy",
            "AgentWireConfig$LifecycleMode", "AgentWireStats", "AgentEvent", "EventDraft", "EventTypes", "Outcome",
            "PublishStatus", "CloseReason", "Subscription", "SubscriberListener", "SubscriptionHandler",
            "InboundHandler", "PresenceListener", "PublishReceipt", "HistorySource", "Backfill"));
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
