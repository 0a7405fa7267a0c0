// A minimal NUnit 2.6 console runner for full-AOT Mono (mono --full-aot), where nunit-console
// cannot run: it builds test assemblies into temporary AppDomains, shadow-copies them and loads
// extension assemblies at run time, none of which AOT-only mode allows.
//
// It runs the same compiled test assembly that nunit-console runs under normal Mono, with
// NUnit's own nunit.framework.dll (attributes, Assert, the exceptions Assert throws), so the
// tests' code and every Assert executes AOT-compiled. It supports what the FoleyKit tests use:
// [TestFixture], [Test], [SetUp]/[TearDown], [TestFixtureSetUp]/[TestFixtureTearDown],
// [Ignore], [Explicit] (skipped), Assert.Ignore / Assume (ignored / inconclusive) and
// [ExpectedException] is refused (not used). Unsupported attributes fail the test loudly rather
// than being skipped silently.
//
// Usage: mono --full-aot MiniNUnitRunner.exe TESTS.dll [--label NAME] [--filter SUBSTRING]
//                                                      [--expect-aot-only]
// --expect-aot-only first proves the runtime enforces IL2CPP's callback rules: marshalling a
// delegate to an instance method, or to a static method without [MonoPInvokeCallback], must
// fail with ExecutionEngineException. If it does not, the run is not really AOT-only and fails.
// Prints one line per non-passing test and "NAME: N passed, M failed, K ignored"; the exit
// code is the number of failed tests (capped at 100), 0 when all passed.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Reflection;
using System.Runtime.InteropServices;
using NUnit.Framework;

internal static class MiniNUnitRunner
{
    private enum Outcome { Passed, Failed, Ignored, Inconclusive }

    private static int Main(string[] args)
    {
        string assemblyPath = null, label = "tests", filter = null;
        bool expectAotOnly = false;
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--expect-aot-only") expectAotOnly = true;
            else if (args[i] == "--label" && i + 1 < args.Length) label = args[++i];
            else if (args[i] == "--filter" && i + 1 < args.Length) filter = args[++i];
            else if (assemblyPath == null) assemblyPath = args[i];
            else { Console.Error.WriteLine("unexpected argument " + args[i]); return 101; }
        }
        if (assemblyPath == null)
        {
            Console.Error.WriteLine("usage: MiniNUnitRunner.exe TESTS.dll [--label NAME] [--filter SUBSTRING]");
            return 101;
        }

        if (expectAotOnly && !AotOnlyIsEnforced(label)) return 102;

        Assembly assembly;
        try
        {
            assembly = Assembly.LoadFrom(assemblyPath);
        }
        catch (Exception e)
        {
            Console.Error.WriteLine("cannot load " + assemblyPath + ": " + e);
            return 101;
        }

        int passed = 0, failed = 0, ignored = 0, inconclusive = 0;
        var clock = Stopwatch.StartNew();
        foreach (var fixture in assembly.GetTypes().Where(IsFixture).OrderBy(t => t.FullName, StringComparer.Ordinal))
        {
            var tests = fixture.GetMethods(BindingFlags.Public | BindingFlags.Instance)
                .Where(m => Has<TestAttribute>(m))
                .Where(m => filter == null || (fixture.FullName + "." + m.Name).IndexOf(filter, StringComparison.Ordinal) >= 0)
                .OrderBy(m => m.Name, StringComparer.Ordinal)
                .ToList();
            if (tests.Count == 0) continue;

            var fixtureIgnore = fixture.GetCustomAttributes(typeof(IgnoreAttribute), true).Cast<IgnoreAttribute>().FirstOrDefault();
            if (fixtureIgnore != null)
            {
                foreach (var t in tests) Report(fixture, t, Outcome.Ignored, fixtureIgnore.Reason);
                ignored += tests.Count;
                continue;
            }

            object instance;
            string message;
            try
            {
                instance = Activator.CreateInstance(fixture);
            }
            catch (Exception e)
            {
                foreach (var t in tests) Report(fixture, t, Outcome.Failed, "cannot create fixture: " + Unwrap(e));
                failed += tests.Count;
                continue;
            }

            Outcome setupOutcome = RunAll(instance, Methods<TestFixtureSetUpAttribute>(fixture), out message);
            if (setupOutcome != Outcome.Passed)
            {
                foreach (var t in tests) Report(fixture, t, setupOutcome, "TestFixtureSetUp: " + message);
                if (setupOutcome == Outcome.Failed) failed += tests.Count;
                else if (setupOutcome == Outcome.Ignored) ignored += tests.Count;
                else inconclusive += tests.Count;
                continue;
            }

            foreach (var test in tests)
            {
                Outcome outcome = RunTest(instance, fixture, test, out message);
                Report(fixture, test, outcome, message);
                switch (outcome)
                {
                    case Outcome.Passed: passed++; break;
                    case Outcome.Failed: failed++; break;
                    case Outcome.Ignored: ignored++; break;
                    default: inconclusive++; break;
                }
            }

            if (RunAll(instance, Methods<TestFixtureTearDownAttribute>(fixture), out message) == Outcome.Failed)
            {
                Console.WriteLine("FAIL  " + fixture.FullName + " (TestFixtureTearDown): " + message);
                failed++;
            }
            var disposable = instance as IDisposable;
            if (disposable != null) disposable.Dispose();
        }

        Console.WriteLine("{0}: {1} passed, {2} failed, {3} ignored{4} ({5:F1} s)", label, passed, failed, ignored,
            inconclusive > 0 ? ", " + inconclusive + " inconclusive" : string.Empty, clock.Elapsed.TotalSeconds);
        return Math.Min(failed, 100);
    }

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate void ProbeCallback(IntPtr user, int code, IntPtr message);

    private sealed class ProbeTarget
    {
        public void Instance(IntPtr user, int code, IntPtr message) { }
    }

    private static void StaticWithoutAttribute(IntPtr user, int code, IntPtr message) { }

    private static bool Refused(ProbeCallback callback, out string why)
    {
        try
        {
            Marshal.GetFunctionPointerForDelegate(callback);
            why = "it was marshalled";
            return false;
        }
#pragma warning disable 618 // ExecutionEngineException is what AOT-only Mono throws here
        catch (ExecutionEngineException e)
#pragma warning restore 618
        {
            why = e.Message;
            return true;
        }
    }

    private static bool AotOnlyIsEnforced(string label)
    {
        string why1, why2;
        bool instance = Refused(new ProbeTarget().Instance, out why1);
        bool unmarked = Refused(StaticWithoutAttribute, out why2);
        if (instance && unmarked)
        {
            Console.WriteLine("{0}: AOT-only mode confirmed: a delegate to an instance method and a static method " +
                              "without [MonoPInvokeCallback] are refused", label);
            return true;
        }
        Console.WriteLine("{0}: FAIL not AOT-only: instance-method delegate: {1}; unmarked static: {2}", label,
            instance ? "refused" : why1, unmarked ? "refused" : why2);
        return false;
    }

    private static bool IsFixture(Type t)
    {
        if (!t.IsClass || t.IsAbstract || !t.IsPublic) return false;
        if (t.GetCustomAttributes(typeof(TestFixtureAttribute), true).Length > 0) return true;
        return t.GetMethods(BindingFlags.Public | BindingFlags.Instance).Any(m => Has<TestAttribute>(m));
    }

    private static bool Has<T>(MemberInfo m) where T : Attribute
    {
        return m.GetCustomAttributes(typeof(T), true).Length > 0;
    }

    private static List<MethodInfo> Methods<T>(Type fixture) where T : Attribute
    {
        // Base classes' methods first, as NUnit does.
        var chain = new List<Type>();
        for (var t = fixture; t != null && t != typeof(object); t = t.BaseType) chain.Insert(0, t);
        var result = new List<MethodInfo>();
        foreach (var t in chain)
            result.AddRange(t.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance |
                                         BindingFlags.DeclaredOnly).Where(m => Has<T>(m)));
        return result;
    }

    private static Outcome RunTest(object instance, Type fixture, MethodInfo test, out string message)
    {
        var ignore = test.GetCustomAttributes(typeof(IgnoreAttribute), true).Cast<IgnoreAttribute>().FirstOrDefault();
        if (ignore != null) { message = ignore.Reason; return Outcome.Ignored; }
        if (Has<ExplicitAttribute>(test)) { message = "explicit"; return Outcome.Ignored; }
        if (test.GetParameters().Length > 0 || Has<TestCaseAttribute>(test) || Has<ExpectedExceptionAttribute>(test))
        {
            message = "MiniNUnitRunner does not support parameterized tests or [ExpectedException]";
            return Outcome.Failed;
        }

        Outcome outcome = RunAll(instance, Methods<SetUpAttribute>(fixture), out message);
        if (outcome == Outcome.Passed) outcome = Invoke(instance, test, out message);
        string teardownMessage;
        // TearDown runs whenever SetUp was attempted, as in NUnit.
        if (RunAll(instance, Methods<TearDownAttribute>(fixture), out teardownMessage) == Outcome.Failed && outcome != Outcome.Failed)
        {
            outcome = Outcome.Failed;
            message = "TearDown: " + teardownMessage;
        }
        return outcome;
    }

    private static Outcome RunAll(object instance, List<MethodInfo> methods, out string message)
    {
        foreach (var m in methods)
        {
            Outcome o = Invoke(instance, m, out message);
            if (o != Outcome.Passed) return o;
        }
        message = null;
        return Outcome.Passed;
    }

    private static Outcome Invoke(object instance, MethodInfo method, out string message)
    {
        try
        {
            method.Invoke(instance, null);
            message = null;
            return Outcome.Passed;
        }
        catch (Exception e)
        {
            var inner = Unwrap(e);
            message = inner.Message;
            if (inner is SuccessException) return Outcome.Passed;
            if (inner is IgnoreException) return Outcome.Ignored;
            if (inner is InconclusiveException) return Outcome.Inconclusive;
            if (!(inner is AssertionException)) message = inner.GetType().Name + ": " + inner.Message + "\n" + Head(inner.StackTrace, 4);
            return Outcome.Failed;
        }
    }

    private static string Head(string text, int lines)
    {
        if (string.IsNullOrEmpty(text)) return string.Empty;
        var all = text.Split('\n');
        return string.Join("\n", all.Take(lines).ToArray()) + (all.Length > lines ? "\n  ..." : string.Empty);
    }

    private static Exception Unwrap(Exception e)
    {
        while (e is TargetInvocationException && e.InnerException != null) e = e.InnerException;
        return e;
    }

    private static void Report(Type fixture, MethodInfo test, Outcome outcome, string message)
    {
        if (outcome == Outcome.Passed) return;
        string tag = outcome == Outcome.Failed ? "FAIL  " : outcome == Outcome.Ignored ? "IGNORE" : "INCONC";
        Console.WriteLine("{0} {1}.{2}: {3}", tag, fixture.FullName, test.Name, (message ?? string.Empty).Trim());
    }
}
