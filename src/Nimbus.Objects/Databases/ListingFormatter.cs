using System.Buffers;
using System.Globalization;
using System.Text;
using Nimbus.Objects.Common;

namespace Nimbus.Objects.Databases;

/// <summary>The <c>format</c> query parameter of a listing (plain, json, xml).</summary>
public enum ListingFormat
{
    Plain,
    Json,
    Xml,
}

/// <summary>
/// Writes listings byte for byte as Swift does: JSON as Python's <c>json.dumps</c> (ASCII only,
/// ", " and ": " separators, Swift's key order), XML as ElementTree's <c>tostring</c>
/// (swift/common/middleware/listing_formats.py), plain text as one name per line.
/// </summary>
public static class ListingFormatter
{
    private const string XmlDeclaration = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

    /// <summary>A container listing: objects and subdirs.</summary>
    public static byte[] FormatContainerListing(string container, IReadOnlyList<ListingEntry> entries, ListingFormat format)
    {
        var output = new ArrayBufferWriter<byte>();
        WriteContainerListing(output, container, entries, format);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>An account listing: containers and subdirs.</summary>
    public static byte[] FormatAccountListing(string account, IReadOnlyList<ListingEntry> entries, ListingFormat format)
    {
        var output = new ArrayBufferWriter<byte>();
        WriteAccountListing(output, account, entries, format);
        return output.WrittenSpan.ToArray();
    }

    public static async Task WriteContainerListingAsync(Stream stream, string container, IReadOnlyList<ListingEntry> entries, ListingFormat format, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var output = new ArrayBufferWriter<byte>();
        WriteContainerListing(output, container, entries, format);
        await stream.WriteAsync(output.WrittenMemory, cancellationToken);
    }

    public static async Task WriteAccountListingAsync(Stream stream, string account, IReadOnlyList<ListingEntry> entries, ListingFormat format, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var output = new ArrayBufferWriter<byte>();
        WriteAccountListing(output, account, entries, format);
        await stream.WriteAsync(output.WrittenMemory, cancellationToken);
    }

    /// <summary>Swift's Timestamp.isoformat: UTC, microseconds always written, no zone.</summary>
    public static string FormatLastModified(SwiftTimestamp timestamp) =>
        timestamp.ToDateTimeOffset().UtcDateTime.ToString("yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'ffffff", CultureInfo.InvariantCulture);

    private static void WriteContainerListing(IBufferWriter<byte> output, string container, IReadOnlyList<ListingEntry> entries, ListingFormat format)
    {
        ArgumentNullException.ThrowIfNull(container);
        ArgumentNullException.ThrowIfNull(entries);
        foreach (var entry in entries)
        {
            if (entry is not (ObjectListingEntry or SubdirEntry))
            {
                throw new ArgumentException($"A container listing holds objects and subdirs, not {entry.GetType().Name}.", nameof(entries));
            }
        }

        switch (format)
        {
            case ListingFormat.Json:
                WriteJson(output, entries);
                break;
            case ListingFormat.Xml:
                WriteContainerXml(output, container, entries);
                break;
            default:
                WritePlain(output, entries);
                break;
        }
    }

    private static void WriteAccountListing(IBufferWriter<byte> output, string account, IReadOnlyList<ListingEntry> entries, ListingFormat format)
    {
        ArgumentNullException.ThrowIfNull(account);
        ArgumentNullException.ThrowIfNull(entries);
        foreach (var entry in entries)
        {
            if (entry is not (ContainerListingEntry or SubdirEntry))
            {
                throw new ArgumentException($"An account listing holds containers and subdirs, not {entry.GetType().Name}.", nameof(entries));
            }
        }

        switch (format)
        {
            case ListingFormat.Json:
                WriteJson(output, entries);
                break;
            case ListingFormat.Xml:
                WriteAccountXml(output, account, entries);
                break;
            default:
                WritePlain(output, entries);
                break;
        }
    }

    private static void WritePlain(IBufferWriter<byte> output, IReadOnlyList<ListingEntry> entries)
    {
        foreach (var entry in entries)
        {
            Raw(output, entry.Name);
            Raw(output, "\n");
        }
    }

    // Key order as the servers build the dicts: swift/container/server.py update_object_record and
    // swift/account/utils.py account_listing_response.
    private static void WriteJson(IBufferWriter<byte> output, IReadOnlyList<ListingEntry> entries)
    {
        Raw(output, "[");
        for (var i = 0; i < entries.Count; i++)
        {
            if (i > 0)
            {
                Raw(output, ", ");
            }

            switch (entries[i])
            {
                case SubdirEntry subdir:
                    Raw(output, "{\"subdir\": ");
                    JsonString(output, subdir.Name);
                    Raw(output, "}");
                    break;
                case ObjectListingEntry item:
                    Raw(output, "{\"bytes\": ");
                    Number(output, item.Bytes);
                    Raw(output, ", \"hash\": ");
                    JsonString(output, item.ETag);
                    Raw(output, ", \"name\": ");
                    JsonString(output, item.Name);
                    Raw(output, ", \"content_type\": ");
                    JsonString(output, item.ContentType);
                    Raw(output, ", \"last_modified\": ");
                    JsonString(output, FormatLastModified(item.LastModified));
                    Raw(output, "}");
                    break;
                case ContainerListingEntry container:
                    Raw(output, "{\"name\": ");
                    JsonString(output, container.Name);
                    Raw(output, ", \"count\": ");
                    Number(output, container.ObjectCount);
                    Raw(output, ", \"bytes\": ");
                    Number(output, container.BytesUsed);
                    Raw(output, ", \"last_modified\": ");
                    JsonString(output, FormatLastModified(container.LastModified));
                    Raw(output, "}");
                    break;
            }
        }

        Raw(output, "]");
    }

    private static void WriteContainerXml(IBufferWriter<byte> output, string container, IReadOnlyList<ListingEntry> entries)
    {
        Raw(output, XmlDeclaration);
        Raw(output, "<container name=\"");
        XmlEscaped(output, container, attribute: true);
        if (entries.Count == 0)
        {
            // ElementTree writes an element with no children and no text as an empty tag.
            Raw(output, "\" />");
            return;
        }

        Raw(output, "\">");
        foreach (var entry in entries)
        {
            if (entry is SubdirEntry subdir)
            {
                Raw(output, "<subdir name=\"");
                XmlEscaped(output, subdir.Name, attribute: true);
                Raw(output, "\">");
                XmlElement(output, "name", subdir.Name);
                Raw(output, "</subdir>");
                continue;
            }

            var item = (ObjectListingEntry)entry;
            Raw(output, "<object>");
            XmlElement(output, "name", item.Name);
            XmlElement(output, "hash", item.ETag);
            XmlElement(output, "bytes", item.Bytes.ToString(CultureInfo.InvariantCulture));
            XmlElement(output, "content_type", item.ContentType);
            XmlElement(output, "last_modified", FormatLastModified(item.LastModified));
            Raw(output, "</object>");
        }

        Raw(output, "</container>");
    }

    // Swift gives the account element the text "\n" and every child the tail "\n".
    private static void WriteAccountXml(IBufferWriter<byte> output, string account, IReadOnlyList<ListingEntry> entries)
    {
        Raw(output, XmlDeclaration);
        Raw(output, "<account name=\"");
        XmlEscaped(output, account, attribute: true);
        Raw(output, "\">\n");
        foreach (var entry in entries)
        {
            if (entry is SubdirEntry subdir)
            {
                Raw(output, "<subdir name=\"");
                XmlEscaped(output, subdir.Name, attribute: true);
                Raw(output, "\" />\n");
                continue;
            }

            var container = (ContainerListingEntry)entry;
            Raw(output, "<container>");
            XmlElement(output, "name", container.Name);
            XmlElement(output, "count", container.ObjectCount.ToString(CultureInfo.InvariantCulture));
            XmlElement(output, "bytes", container.BytesUsed.ToString(CultureInfo.InvariantCulture));
            XmlElement(output, "last_modified", FormatLastModified(container.LastModified));
            Raw(output, "</container>\n");
        }

        Raw(output, "</account>");
    }

    private static void XmlElement(IBufferWriter<byte> output, string tag, string text)
    {
        Raw(output, "<");
        Raw(output, tag);
        if (text.Length == 0)
        {
            Raw(output, " />");
            return;
        }

        Raw(output, ">");
        XmlEscaped(output, text, attribute: false);
        Raw(output, "</");
        Raw(output, tag);
        Raw(output, ">");
    }

    // ElementTree's _escape_cdata and _escape_attrib: attributes also escape quotes and CR, LF, tab.
    private static void XmlEscaped(IBufferWriter<byte> output, string text, bool attribute)
    {
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var escape = text[i] switch
            {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '"' when attribute => "&quot;",
                '\r' when attribute => "&#13;",
                '\n' when attribute => "&#10;",
                '\t' when attribute => "&#09;",
                _ => null,
            };
            if (escape is null)
            {
                continue;
            }

            Raw(output, text.AsSpan(start, i - start));
            Raw(output, escape);
            start = i + 1;
        }

        Raw(output, text.AsSpan(start));
    }

    // Python's json.dumps with ensure_ascii: printable ASCII as is, everything else escaped, per UTF-16 unit.
    private static void JsonString(IBufferWriter<byte> output, string text)
    {
        Raw(output, "\"");
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c is >= ' ' and <= '~' and not '"' and not '\\')
            {
                continue;
            }

            Raw(output, text.AsSpan(start, i - start));
            Raw(output, c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                '\b' => "\\b",
                '\f' => "\\f",
                _ => string.Create(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}"),
            });
            start = i + 1;
        }

        Raw(output, text.AsSpan(start));
        Raw(output, "\"");
    }

    private static void Number(IBufferWriter<byte> output, long value) =>
        Raw(output, value.ToString(CultureInfo.InvariantCulture));

    private static void Raw(IBufferWriter<byte> output, ReadOnlySpan<char> text) =>
        Encoding.UTF8.GetBytes(text, output);
}
