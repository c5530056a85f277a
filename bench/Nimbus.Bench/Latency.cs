using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Nimbus.Bench;

/// <summary>Latency samples in milliseconds, summarised as the benchmarks report them.</summary>
internal sealed class Latency
{
    private readonly List<double> _samples = [];

    public int Count => _samples.Count;

    public IReadOnlyList<double> Samples => _samples;

    public void Add(double milliseconds) => _samples.Add(milliseconds);

    /// <summary>Adds the time since <paramref name="startTimestamp"/> (a <see cref="Stopwatch.GetTimestamp"/> value).</summary>
    public void AddSince(long startTimestamp) => Add(Stopwatch.GetElapsedTime(startTimestamp).TotalMilliseconds);

    public double Median => Percentile(0.5);

    /// <summary>Linear interpolation between the closest ranks (numpy's default), q in [0, 1].</summary>
    public double Percentile(double q)
    {
        if (_samples.Count == 0)
        {
            return double.NaN;
        }

        var sorted = _samples.Order().ToArray();
        var rank = q * (sorted.Length - 1);
        var low = (int)Math.Floor(rank);
        var high = Math.Min(low + 1, sorted.Length - 1);
        return sorted[low] + ((sorted[high] - sorted[low]) * (rank - low));
    }

    /// <summary><c>{"runs", "median", "pNN"…, "min", "max"}</c>, in milliseconds rounded to <paramref name="digits"/>.</summary>
    public JsonObject ToJson(int digits, params double[] percentiles)
    {
        var json = new JsonObject
        {
            ["runs"] = _samples.Count,
            ["median"] = Math.Round(Median, digits),
        };
        foreach (var q in percentiles)
        {
            json[$"p{q * 100:0}"] = Math.Round(Percentile(q), digits);
        }

        json["min"] = Math.Round(_samples.Min(), digits);
        json["max"] = Math.Round(_samples.Max(), digits);
        return json;
    }
}
