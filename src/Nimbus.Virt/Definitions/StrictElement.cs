using System.Globalization;
using System.Xml;
using System.Xml.Linq;

namespace Nimbus.Virt.Definitions;

/// <summary>
/// Reads one XML element and remembers what was read, so that whatever is left — an attribute or
/// child Nimbus does not understand — is refused by name instead of silently dropped: a definition
/// is either kept whole or refused.
/// </summary>
internal sealed class StrictElement
{
    private readonly XElement _element;
    private readonly HashSet<XName> _readAttributes = [];
    private readonly HashSet<XElement> _readChildren = [];
    private readonly List<StrictElement> _opened = [];

    private StrictElement(XElement element, string path)
    {
        _element = element;
        Path = path;
    }

    public string Path { get; }

    public string Name => _element.Name.LocalName;

    /// <summary>Parses a document; malformed XML is refused with the parser's line and reason.</summary>
    public static StrictElement Load(string xml, string expectedRoot)
    {
        XDocument document;
        try
        {
            document = XDocument.Parse(xml, LoadOptions.SetLineInfo);
        }
        catch (XmlException ex)
        {
            throw new VirtException(VirtErrorCode.XmlError, $"the {expectedRoot} XML is not well-formed: {ex.Message}");
        }

        var root = document.Root!;
        if (root.Name.LocalName != expectedRoot || root.Name.Namespace != XNamespace.None)
        {
            throw new VirtException(VirtErrorCode.XmlError, $"expected a <{expectedRoot}> document but the root element is <{root.Name.LocalName}>");
        }

        return new StrictElement(root, expectedRoot);
    }

    public VirtException Error(string problem) =>
        new(VirtErrorCode.XmlError, $"{Path}{Line(_element)}: {problem}");

    public string? Attribute(string name)
    {
        _readAttributes.Add(name);
        return _element.Attribute(name)?.Value;
    }

    public string RequiredAttribute(string name) =>
        Attribute(name) is { Length: > 0 } value ? value : throw Error($"attribute '{name}' is missing");

    public T? EnumAttribute<T>(string name)
        where T : struct, Enum
    {
        var value = Attribute(name);
        return value is null ? null : ParseEnum<T>(value, $"attribute '{name}'");
    }

    public T ParseEnum<T>(string value, string what)
        where T : struct, Enum
    {
        foreach (var candidate in Enum.GetValues<T>())
        {
            if (string.Equals(XmlName(candidate), value, StringComparison.Ordinal))
            {
                return candidate;
            }
        }

        throw Error($"{what} is '{value}'; supported: {string.Join(", ", Enum.GetValues<T>().Select(v => XmlName(v)))}");
    }

    public bool YesNoAttribute(string name, bool fallback)
    {
        return Attribute(name) switch
        {
            null => fallback,
            "yes" => true,
            "no" => false,
            var other => throw Error($"attribute '{name}' is '{other}'; use yes or no"),
        };
    }

    public int? IntAttribute(string name)
    {
        var value = Attribute(name);
        if (value is null)
        {
            return null;
        }

        return int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number)
            ? number
            : throw Error($"attribute '{name}' is '{value}', which is not a whole number");
    }

    public string Text() => _element.Value.Trim();

    /// <summary>The children with this name, each read strictly; a path index tells repeated ones apart.</summary>
    public IReadOnlyList<StrictElement> Children(string name)
    {
        var found = _element.Elements(name).ToList();
        var result = new List<StrictElement>(found.Count);
        for (var i = 0; i < found.Count; i++)
        {
            _readChildren.Add(found[i]);
            var path = found.Count == 1 ? $"{Path}/{name}" : $"{Path}/{name}[{i + 1}]";
            var child = new StrictElement(found[i], path);
            _opened.Add(child);
            result.Add(child);
        }

        return result;
    }

    public StrictElement? Child(string name)
    {
        var children = Children(name);
        return children.Count switch
        {
            0 => null,
            1 => children[0],
            _ => throw Error($"<{name}> appears {children.Count} times; it may appear once"),
        };
    }

    public StrictElement RequiredChild(string name) => Child(name) ?? throw Error($"element <{name}> is missing");

    public string? ChildText(string name) => Child(name)?.Text();

    /// <summary>Marks children as read on purpose without using them (hardware addresses libvirt adds).</summary>
    public void Ignore(string name)
    {
        foreach (var child in _element.Elements(name))
        {
            _readChildren.Add(child);
        }
    }

    /// <summary>Refuses anything in this element and below that was not read.</summary>
    public void RejectUnread()
    {
        foreach (var attribute in _element.Attributes())
        {
            if (!attribute.IsNamespaceDeclaration && !_readAttributes.Contains(attribute.Name))
            {
                throw Error($"attribute '{attribute.Name.LocalName}' of <{Name}> is not supported by Nimbus; remove it");
            }
        }

        foreach (var child in _element.Elements())
        {
            if (!_readChildren.Contains(child))
            {
                throw new VirtException(VirtErrorCode.XmlError, $"{Path}/{child.Name.LocalName}{Line(child)}: element <{child.Name.LocalName}> is not supported by Nimbus in <{Name}>; remove it");
            }
        }

        foreach (var child in _opened)
        {
            child.RejectUnread();
        }
    }

    /// <summary>The XML spelling of an enum value: <c>HostPassthrough</c> → <c>host-passthrough</c>.</summary>
    public static string XmlName<T>(T value)
        where T : struct, Enum
    {
        var name = value.ToString();
        var builder = new System.Text.StringBuilder(name.Length + 4);
        for (var i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0)
            {
                builder.Append('-');
            }

            builder.Append(char.ToLowerInvariant(name[i]));
        }

        return builder.ToString();
    }

    private static string Line(XElement element) =>
        element is IXmlLineInfo info && info.HasLineInfo() ? $" (line {info.LineNumber})" : string.Empty;
}
