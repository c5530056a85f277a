using System.Text;

namespace Nimbus.Virt.Definitions;

/// <summary>
/// Writes XML the way libvirt does (virBuffer): two-space indents, single-quoted attributes,
/// <c>&lt;empty/&gt;</c> elements, text-only elements on one line. Output is canonical so golden
/// files and round trips compare as text.
/// </summary>
internal sealed class LibvirtXmlWriter
{
    private readonly StringBuilder _text = new();
    private readonly Stack<(string Name, bool HasChildren)> _open = new();
    private bool _tagOpen;

    public LibvirtXmlWriter StartElement(string name)
    {
        CloseStartTag(newLineAfter: true);
        MarkParentHasChildren();
        Indent();
        _text.Append('<').Append(name);
        _open.Push((name, false));
        _tagOpen = true;
        return this;
    }

    public LibvirtXmlWriter Attribute(string name, string value)
    {
        _text.Append(' ').Append(name).Append("='");
        Escape(value, attribute: true);
        _text.Append('\'');
        return this;
    }

    public LibvirtXmlWriter AttributeIf(string name, string? value) => value is null ? this : Attribute(name, value);

    /// <summary>Closes the current element: <c>/&gt;</c> when it has no content.</summary>
    public LibvirtXmlWriter EndElement()
    {
        var (name, hasChildren) = _open.Pop();
        if (_tagOpen)
        {
            _text.Append("/>\n");
            _tagOpen = false;
            return this;
        }

        if (hasChildren)
        {
            Indent();
        }

        _text.Append("</").Append(name).Append(">\n");
        return this;
    }

    /// <summary><c>&lt;name&gt;text&lt;/name&gt;</c> on one line.</summary>
    public LibvirtXmlWriter Element(string name, string text) => StartElement(name).Text(text).EndElement();

    public LibvirtXmlWriter ElementIf(string name, string? text) => text is null ? this : Element(name, text);

    public LibvirtXmlWriter EmptyElementIf(string name, bool condition) => condition ? StartElement(name).EndElement() : this;

    public LibvirtXmlWriter Text(string text)
    {
        CloseStartTag(newLineAfter: false);
        Escape(text, attribute: false);
        return this;
    }

    public override string ToString() => _text.ToString();

    private void CloseStartTag(bool newLineAfter)
    {
        if (!_tagOpen)
        {
            return;
        }

        _text.Append(newLineAfter ? ">\n" : ">");
        _tagOpen = false;
    }

    private void MarkParentHasChildren()
    {
        if (_open.Count > 0)
        {
            var (name, _) = _open.Pop();
            _open.Push((name, true));
        }
    }

    private void Indent() => _text.Append(' ', _open.Count * 2);

    private void Escape(string value, bool attribute)
    {
        foreach (var c in value)
        {
            _ = c switch
            {
                '<' => _text.Append("&lt;"),
                '>' => _text.Append("&gt;"),
                '&' => _text.Append("&amp;"),
                '\'' when attribute => _text.Append("&apos;"),
                '"' when attribute => _text.Append("&quot;"),
                _ => _text.Append(c),
            };
        }
    }
}
