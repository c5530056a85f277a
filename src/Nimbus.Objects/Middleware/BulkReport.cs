using System.Globalization;
using System.Text;
using Nimbus.Objects.Http;

namespace Nimbus.Objects.Middleware;

/// <summary>
/// The body of a bulk answer (Swift's get_heartbeat_response_body): the counts, the overall
/// status and body, and the names that failed with their statuses, as JSON, XML or plain text.
/// </summary>
internal sealed class BulkReport(string rootTag)
{
    private const string StatusKey = "Response Status";
    private const string BodyKey = "Response Body";

    // Swift's dict order: its JSON keeps it, its XML and text sort the keys.
    private readonly List<KeyValuePair<string, object>> _fields = [new(StatusKey, string.Empty), new(BodyKey, string.Empty)];

    public int Status
    {
        set => Set(StatusKey, SwiftResponse.StatusLine(value));
    }

    public string Body
    {
        set => Set(BodyKey, value);
    }

    public List<(string Name, string Status)> Errors { get; } = [];

    public void Set(string key, object value)
    {
        var index = _fields.FindIndex(f => f.Key == key);
        if (index < 0)
        {
            _fields.Add(new(key, value));
        }
        else
        {
            _fields[index] = new(key, value);
        }
    }

    public byte[] Format(string? outType)
    {
        var text = new StringBuilder();
        if (outType == "application/json")
        {
            text.Append('{');
            foreach (var (key, value) in _fields)
            {
                AppendJson(text, key).Append(": ");
                (value is string s ? AppendJson(text, s) : text.Append(Invariant(value))).Append(", ");
            }

            text.Append("\"Errors\": [");
            text.AppendJoin(", ", Errors.Select(e => $"[{Json(e.Name)}, {Json(e.Status)}]"));
            text.Append("]}");
            return Encoding.ASCII.GetBytes(text.ToString());
        }

        var sorted = _fields.OrderBy(f => f.Key, StringComparer.Ordinal).ToList();
        if (outType is not null && outType.EndsWith("/xml", StringComparison.Ordinal))
        {
            text.Append('<').Append(rootTag).Append(">\n");
            foreach (var (key, value) in sorted)
            {
                var tag = key.Replace(' ', '_').ToLowerInvariant();
                text.Append('<').Append(tag).Append('>').Append(XmlEscape(Invariant(value))).Append("</").Append(tag).Append(">\n");
            }

            text.Append("<errors>\n");
            foreach (var (name, status) in Errors)
            {
                text.Append("<object><name>").Append(XmlEscape(name)).Append("</name><status>").Append(XmlEscape(status)).Append("</status></object>\n");
            }

            text.Append("</errors>\n</").Append(rootTag).Append(">\n");
            return Encoding.UTF8.GetBytes(text.ToString());
        }

        foreach (var (key, value) in sorted)
        {
            text.Append(key).Append(": ").Append(Invariant(value)).Append('\n');
        }

        text.Append("Errors:\n");
        foreach (var (name, status) in Errors)
        {
            text.Append(name).Append(", ").Append(status).Append('\n');
        }

        return Encoding.UTF8.GetBytes(text.ToString());
    }

    private static string Invariant(object value) => Convert.ToString(value, CultureInfo.InvariantCulture) ?? string.Empty;

    private static string Json(string value) => AppendJson(new StringBuilder(), value).ToString();

    /// <summary>A JSON string as Python's json.dumps writes it: ASCII only, other characters as \u escapes.</summary>
    private static StringBuilder AppendJson(StringBuilder text, string value)
    {
        text.Append('"');
        foreach (var c in value)
        {
            _ = c switch
            {
                '"' => text.Append("\\\""),
                '\\' => text.Append("\\\\"),
                '\n' => text.Append("\\n"),
                '\r' => text.Append("\\r"),
                '\t' => text.Append("\\t"),
                '\b' => text.Append("\\b"),
                '\f' => text.Append("\\f"),
                < ' ' or > (char)0x7F => text.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture)),
                _ => text.Append(c),
            };
        }

        return text.Append('"');
    }

    /// <summary>saxutils.escape: &amp;, &lt; and &gt;.</summary>
    private static string XmlEscape(string value) =>
        value.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);
}
