using System.Reflection;
using Microsoft.Extensions.Logging;
using Nimbus.Platform.Logging;

namespace Nimbus.Daemon.Tests;

/// <summary>Every [LoggerMessage] of every Nimbus assembly against the one registry of event id blocks.</summary>
public sealed class LogEventIdTests
{
    private const BindingFlags AllMethods = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly;

    [Fact]
    public void Every_log_event_id_is_used_once_across_nimbus()
    {
        var duplicates = LogEvents()
            .GroupBy(e => e.Id)
            .Where(g => g.Count() > 1)
            .Select(g => $"{g.Key}: {string.Join(", ", g.Select(e => e.Name))}")
            .ToList();

        Assert.True(duplicates.Count == 0, "event ids used more than once:\n" + string.Join('\n', duplicates));
    }

    [Fact]
    public void Every_log_event_id_lies_in_the_block_of_its_subsystem()
    {
        var outside = LogEvents()
            .Select(e => (Event: e, Range: LogEventIds.RangeOf(e.Namespace)))
            .Where(x => x.Range is null || !x.Range.Contains(x.Event.Id))
            .Select(x => $"{x.Event.Name} has id {x.Event.Id}, outside {(x.Range is null ? $"any block (no row for {x.Event.Namespace})" : $"{x.Range.First}–{x.Range.Last} ({x.Range.Subsystem})")}")
            .ToList();

        Assert.True(outside.Count == 0, "event ids outside their block in LogEventIds:\n" + string.Join('\n', outside));
    }

    [Fact]
    public void Registered_blocks_do_not_overlap()
    {
        var ranges = LogEventIds.Ranges.OrderBy(r => r.First).ToList();

        Assert.All(ranges, r => Assert.True(r.First <= r.Last, $"{r.Subsystem}: {r.First} > {r.Last}"));
        for (var i = 1; i < ranges.Count; i++)
        {
            Assert.True(ranges[i - 1].Last < ranges[i].First, $"{ranges[i - 1].Subsystem} and {ranges[i].Subsystem} overlap");
        }

        Assert.Equal(ranges.Count, ranges.Select(r => r.Namespace).Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void The_scan_finds_the_events_of_every_service()
    {
        var namespaces = LogEvents().Select(e => e.Namespace).ToHashSet(StringComparer.Ordinal);

        Assert.Contains("Nimbus.Platform.Logging", namespaces);
        Assert.Contains("Nimbus.Daemon", namespaces);
        Assert.Contains("Nimbus.Objects", namespaces);
        Assert.Contains("Nimbus.Identity", namespaces);
        Assert.Contains("Nimbus.Identity.Tokens", namespaces);
        Assert.Contains("Nimbus.Images", namespaces);
    }

    private sealed record LogEvent(string Name, string? Namespace, int Id);

    private static List<LogEvent> LogEvents()
    {
        var events = new List<LogEvent>();
        foreach (var assembly in NimbusAssemblies())
        {
            foreach (var type in assembly.GetTypes())
            {
                foreach (var method in type.GetMethods(AllMethods))
                {
                    if (method.GetCustomAttribute<LoggerMessageAttribute>() is { } message)
                    {
                        events.Add(new LogEvent($"{type.FullName}.{method.Name}", type.Namespace, message.EventId));
                    }
                }
            }
        }

        return events;
    }

    /// <summary>The product's assemblies beside the tests: nimbusd references every service.</summary>
    private static IEnumerable<Assembly> NimbusAssemblies() =>
        Directory.EnumerateFiles(AppContext.BaseDirectory, "*.dll")
            .Select(Path.GetFileNameWithoutExtension)
            .Where(name => name is not null && (name == "nimbusd" || name.StartsWith("Nimbus.", StringComparison.Ordinal)) && !name.EndsWith(".Tests", StringComparison.Ordinal) && name != "Nimbus.TestSupport")
            .Select(name => Assembly.Load(name!));
}
