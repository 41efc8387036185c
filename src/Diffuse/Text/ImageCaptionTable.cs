using TorchSharp;
using static TorchSharp.torch;

namespace Diffuse.Text;

/// <summary>
/// The tokenized captions of each image of a captioned dataset (a captions file beside an image folder), looked up by the
/// image's index: [N, M, L] ids for N images of at most M captions. An image without a caption has the empty one (the
/// unconditional input). A training draw picks one of the image's captions uniformly (one uniform number per sample from
/// the run's generator), then applies the word and caption dropout of <see cref="CaptionTable"/>.
/// </summary>
internal sealed class ImageCaptionTable : ICaptionTable
{
    private readonly Tensor table;
    private readonly Tensor counts;

    public ImageCaptionTable(WordTokenizer tokenizer, IReadOnlyList<IReadOnlyList<string>> captions)
    {
        Tokenizer = tokenizer;
        Images = captions.Count;
        MaxCaptions = Math.Max(1, captions.Count == 0 ? 1 : captions.Max(c => c.Count));
        var ids = new long[(long)Images * MaxCaptions * tokenizer.MaxLength];
        var perImage = new long[Images];
        var empty = tokenizer.Encode("");
        for (int i = 0; i < Images; i++)
        {
            var own = captions[i].Count == 0 ? [""] : captions[i];
            perImage[i] = own.Count;
            for (int j = 0; j < MaxCaptions; j++)
            {
                var encoded = j < own.Count ? tokenizer.Encode(own[j]) : empty;
                Array.Copy(encoded, 0, ids, ((long)i * MaxCaptions + j) * tokenizer.MaxLength, tokenizer.MaxLength);
            }
        }
        table = tensor(ids, [Images, MaxCaptions, tokenizer.MaxLength], ScalarType.Int64);
        counts = tensor(perImage, ScalarType.Int64);
    }

    public WordTokenizer Tokenizer { get; }
    public int Images { get; }
    public int MaxCaptions { get; }
    public bool KeyedByImage => true;

    public Tensor Fixed(Tensor keys)
    {
        using var scope = NewDisposeScope();
        var rows = Check(keys) * MaxCaptions;
        return table.view(Images * MaxCaptions, -1).index_select(0, rows).to(keys.device).MoveToOuterDisposeScope();
    }

    public Tensor Draw(Tensor keys, double captionDropout, Generator generator)
    {
        if (!(captionDropout >= 0 && captionDropout <= 1)) throw DiffuseException.For("cond_drop", $"cond_drop must be in [0, 1], got {captionDropout}");
        using var scope = NewDisposeScope();
        var indices = Check(keys);
        long b = indices.shape[0];
        var available = counts.index_select(0, indices);
        // floor(u * count) is uniform over the image's captions; the clamp guards u rounding up to 1.
        var choice = rand([b], dtype: ScalarType.Float64, generator: generator).mul(available).floor().to(ScalarType.Int64).minimum(available - 1);
        var tokens = table.view(Images * MaxCaptions, -1).index_select(0, indices * MaxCaptions + choice);
        return CaptionTable.Corrupt(tokens, Tokenizer, captionDropout, generator).to(keys.device).MoveToOuterDisposeScope();
    }

    Tensor Check(Tensor keys)
    {
        if (keys.dim() != 1) throw new DiffuseException($"image indices must be a vector [B], got [{string.Join(", ", keys.shape)}]");
        var indices = keys.to(ScalarType.Int64).cpu();
        if (indices.numel() == 0) return indices;
        long lo = indices.min().item<long>(), hi = indices.max().item<long>();
        if (lo < 0 || hi >= Images) throw new DiffuseException($"image indices must lie in [0, {Images - 1}], got values in [{lo}, {hi}]");
        return indices;
    }

    public void Dispose()
    {
        table.Dispose();
        counts.Dispose();
    }
}
