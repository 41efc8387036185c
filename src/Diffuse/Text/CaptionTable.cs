using TorchSharp;
using static TorchSharp.torch;

namespace Diffuse.Text;

/// <summary>
/// The tokenized training captions of each class ([K, T, L] ids for K classes of T templates) and the per-sample draws of a
/// text-conditional training batch, all from the run's generator so that a seed fixes them and a resume continues them:
/// first each sample's template (uniform over T), then the word dropout (each word becomes [UNK] with probability
/// <see cref="WordDropout"/>, so that [UNK] is a trained token and unknown words in prompts are tolerated), then the
/// caption dropout of classifier-free guidance (the whole caption becomes the empty one with probability p_uncond).
/// </summary>
internal sealed class CaptionTable : ICaptionTable
{
    /// <summary>The probability that a training caption's word is replaced by [UNK].</summary>
    public const double WordDropout = 0.1;

    private readonly Tensor table;

    public CaptionTable(WordTokenizer tokenizer, IReadOnlyList<IReadOnlyList<string>> captions)
    {
        if (captions.Count == 0 || captions.Any(c => c.Count != captions[0].Count) || captions[0].Count == 0)
            throw new DiffuseException("every class needs the same positive number of captions");
        Tokenizer = tokenizer;
        Classes = captions.Count;
        Templates = captions[0].Count;
        var ids = captions.SelectMany(c => c).SelectMany(tokenizer.Encode).ToArray();
        table = tensor(ids, [Classes, Templates, tokenizer.MaxLength], ScalarType.Int64);
    }

    public WordTokenizer Tokenizer { get; }
    public int Classes { get; }
    public int Templates { get; }

    /// <summary>The ids of the empty caption (the unconditional input), [L].</summary>
    public long[] EmptyCaption => Tokenizer.Encode("");

    /// <summary>Keyed by class label.</summary>
    public bool KeyedByImage => false;

    /// <summary>The ids of each label's first caption, [B, L] (validation and sample grids).</summary>
    public Tensor Fixed(Tensor labels) => Fixed(labels, 0);

    /// <summary>The ids of each label's caption number <paramref name="template"/>, [B, L] (validation and sample grids).</summary>
    public Tensor Fixed(Tensor labels, int template)
    {
        using var scope = NewDisposeScope();
        var rows = labels.to(ScalarType.Int64).cpu() * Templates + template;
        return table.view(Classes * Templates, -1).index_select(0, rows).to(labels.device).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The training ids [B, L] for <paramref name="labels"/> [B]: a template each, word dropout, then caption dropout with
    /// probability <paramref name="captionDropout"/>, drawn from <paramref name="generator"/> in that order.
    /// </summary>
    public Tensor Draw(Tensor labels, double captionDropout, Generator generator)
    {
        if (!(captionDropout >= 0 && captionDropout <= 1)) throw DiffuseException.For("cond_drop", $"cond_drop must be in [0, 1], got {captionDropout}");
        if (labels.dim() != 1) throw new DiffuseException($"labels must be a vector [B], got [{string.Join(", ", labels.shape)}]");
        using var scope = NewDisposeScope();
        long b = labels.shape[0];
        var indices = labels.to(ScalarType.Int64).cpu();
        long lo = b == 0 ? 0 : indices.min().item<long>(), hi = b == 0 ? 0 : indices.max().item<long>();
        if (lo < 0 || hi >= Classes) throw new DiffuseException($"caption labels must lie in [0, {Classes - 1}], got values in [{lo}, {hi}]");
        var template = randint(0, Templates, [b], dtype: ScalarType.Int64, generator: generator);
        var tokens = table.view(Classes * Templates, -1).index_select(0, indices * Templates + template);
        return Corrupt(tokens, Tokenizer, captionDropout, generator).to(labels.device).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Word dropout (each word becomes [UNK] with probability <see cref="WordDropout"/>), then caption dropout (the whole
    /// caption becomes the empty one with probability <paramref name="captionDropout"/>), drawn from
    /// <paramref name="generator"/> in that order; <paramref name="tokens"/> are [B, L] ids on the CPU.
    /// </summary>
    internal static Tensor Corrupt(Tensor tokens, WordTokenizer tokenizer, double captionDropout, Generator generator)
    {
        long b = tokens.shape[0];
        var words = tokens.ge(WordTokenizer.ClsId + 1);
        var unknown = rand([b, tokenizer.MaxLength], generator: generator).lt(WordDropout).logical_and(words);
        tokens = tokens.masked_fill(unknown, WordTokenizer.UnknownId);
        if (captionDropout > 0)
        {
            var drop = rand([b], generator: generator).lt(captionDropout).unsqueeze(1);
            tokens = where(drop, tensor(tokenizer.Encode("")).unsqueeze(0), tokens);
        }
        return tokens;
    }

    public void Dispose() => table.Dispose();
}
