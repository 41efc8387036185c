using Diffuse.Configuration;
using Diffuse.Models;
using Diffuse.Text;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Diffuse.Tests.Models;

/// <summary>The text encoder, cross-attention and the text-conditional U-Net: shapes and the padding mask.</summary>
public class TextConditioningModelTests
{
    static readonly TextEncoderConfig Text = new()
    {
        Vocabulary = ["[PAD]", "[UNK]", "[CLS]", "a", "b", "c", "d"], MaxLength = 6, Width = 8, Layers = 2, Heads = 2,
    };

    static readonly UNetConfig Micro = new()
    {
        InChannels = 1, OutChannels = 1, ImageSize = 8, BaseChannels = 8, ChannelMult = [1, 2], NumResBlocks = 1,
        AttentionResolutions = [4], NumHeads = 2, GroupNormGroups = 4, TextEncoder = Text,
    };

    static T Seeded<T>(T module, ulong seed = 3) where T : nn.Module
    {
        using var g = new Generator(seed);
        Initialization.Reset(module, g);
        return module;
    }

    static Tensor Tokens(params long[][] rows) => tensor(rows.SelectMany(r => r).ToArray(), [rows.Length, rows[0].Length]);

    [Fact]
    public void TheEncoderGivesOneStatePerTokenAndMasksPadding()
    {
        using var encoder = Seeded(new TextEncoder(Text));
        using var tokens = Tokens([2, 3, 4, 0, 0, 0], [2, 5, 6, 3, 4, 0]);
        var context = encoder.forward(tokens);
        Assert.Equal([2L, 6L, 8L], context.Hidden.shape);
        Assert.Equal([true, true, true, false, false, false], context.Mask[0].data<bool>().ToArray());
        Assert.Equal([true, true, true, true, true, false], context.Mask[1].data<bool>().ToArray());
        Assert.Throws<DiffuseException>(() => encoder.forward(zeros([2, 7], ScalarType.Int64)));
    }

    [Fact]
    public void MaskedTokensDoNotChangeTheStatesOfTheOthers()
    {
        using var _ = no_grad();
        using var encoder = Seeded(new TextEncoder(Text));
        using var mask = tensor(new[] { true, true, true, false, false, false }).unsqueeze(0);
        using var first = Tokens([2, 3, 4, 0, 0, 0]);
        using var second = Tokens([2, 3, 4, 6, 5, 1]);
        var a = encoder.Encode(first, mask).Hidden.narrow(1, 0, 3);
        var b = encoder.Encode(second, mask).Hidden.narrow(1, 0, 3);
        Assert.True(a.allclose(b, rtol: 0, atol: 1e-6));
        // Unmasked, the same change does reach them.
        using var all = ones([1, 6], ScalarType.Bool);
        Assert.False(encoder.Encode(first, all).Hidden.narrow(1, 0, 3).allclose(encoder.Encode(second, all).Hidden.narrow(1, 0, 3), rtol: 0, atol: 1e-4));
    }

    [Fact]
    public void CrossAttentionKeepsTheFeatureShapeIgnoresMaskedTokensAndStartsAsTheIdentity()
    {
        using var _ = no_grad();
        using var block = new CrossAttentionBlock(8, 8, 2, 4);
        using var g = new Generator(4);
        using var x = randn([2, 8, 4, 4], generator: g);
        using var hidden = randn([2, 5, 8], generator: g);
        using var mask = tensor(new[] { true, true, false, false, false, true, true, true, true, false }).view(2, 5);
        Assert.True(block.forward(x, new TextContext(hidden, mask)).allclose(x, rtol: 0, atol: 0)); // proj_out starts at zero
        Seeded(block);
        var output = block.forward(x, new TextContext(hidden, mask));
        Assert.Equal(x.shape, output.shape);
        Assert.False(output.allclose(x));
        using var changed = hidden.clone();
        changed[0, 3] = randn([8], generator: g) * 10;
        changed[1, 4] = randn([8], generator: g) * 10;
        Assert.True(output.allclose(block.forward(x, new TextContext(changed, mask)), rtol: 0, atol: 1e-6));
        changed[0, 1] = randn([8], generator: g) * 10;
        Assert.False(output[0].allclose(block.forward(x, new TextContext(changed, mask))[0], rtol: 0, atol: 1e-4));
    }

    [Fact]
    public void ATextUNetMapsImagesAndPromptsToImagesAndTheEmptyPromptIsItsUnconditionalOutput()
    {
        using var _ = no_grad();
        using var unet = new UNet2D(Micro);
        using (var g = new Generator(5)) unet.ResetParameters(g);
        // Leave the zero-initialised outputs so that the text reaches the output.
        foreach (var p in unet.parameters()) p.add_(0.01);
        Assert.True(unet.IsTextConditional);
        using var g2 = new Generator(6);
        using var x = randn([2, 1, 8, 8], generator: g2);
        using var t = tensor(new long[] { 3, 700 });
        using var prompt = Tokens([2, 3, 4, 0, 0, 0], [2, 5, 0, 0, 0, 0]);
        using var empty = Tokens([2, 0, 0, 0, 0, 0], [2, 0, 0, 0, 0, 0]);
        var conditional = unet.ForwardText(x, t, prompt);
        Assert.Equal([2L, 1L, 8L, 8L], conditional.shape);
        Assert.True(unet.forward(x, t).allclose(unet.ForwardText(x, t, empty), rtol: 0, atol: 0));
        Assert.True(unet.ForwardText(x, t, null).allclose(unet.ForwardText(x, t, empty), rtol: 0, atol: 0));
        Assert.False(conditional.allclose(unet.forward(x, t)));
        // Fewer padding positions give the same output: padding is masked everywhere.
        using var shorter = Tokens([2, 3, 4, 0], [2, 5, 0, 0]);
        Assert.True(conditional.allclose(unet.ForwardText(x, t, shorter), rtol: 0, atol: 1e-5));
        Assert.Throws<DiffuseException>(() => unet.ForwardText(x, t, Tokens([2, 9, 0, 0, 0, 0], [2, 0, 0, 0, 0, 0])));
        Assert.Throws<DiffuseException>(() => unet.Forward(x, t, tensor(new long[] { 0, 1 })));
    }

    [Fact]
    public void OnlyTextUNetsHaveTextWeightsAndTheyComeFromTheSeed()
    {
        using var plain = new UNet2D(Micro with { TextEncoder = null });
        Assert.DoesNotContain(plain.state_dict().Keys, k => k.Contains("text") || k.Contains("cross"));
        Assert.False(plain.IsTextConditional);
        Assert.Throws<DiffuseException>(() => plain.ForwardText(zeros([1, 1, 8, 8]), zeros([1]), zeros([1, 6], ScalarType.Int64)));
        using var text = new UNet2D(Micro);
        var keys = text.state_dict().Keys.ToList();
        Assert.Contains("text_encoder.token_embedding.weight", keys);
        Assert.Contains("text_encoder.layers.1.to_qkv.weight", keys);
        Assert.Contains("text_proj.weight", keys);
        Assert.Contains("mid_block.cross_attentions.0.to_k.weight", keys);
        Assert.Contains("down_blocks.1.cross_attentions.0.to_q.weight", keys);
        Assert.Contains("up_blocks.0.cross_attentions.1.proj_out.weight", keys);
        Assert.DoesNotContain(keys, k => k.StartsWith("down_blocks.0.cross", StringComparison.Ordinal)); // no attention at 8x8
        using var again = new UNet2D(Micro);
        using (var g = new Generator(9)) text.ResetParameters(g);
        using (var g = new Generator(9)) again.ResetParameters(g);
        foreach (var (name, value) in text.state_dict()) Assert.True(value.allclose(again.state_dict()[name], rtol: 0, atol: 0), name);
    }

    [Fact]
    public void TextAndClassesAreExclusiveAndTheEncoderConfigIsChecked()
    {
        Assert.Contains("not both", Assert.Throws<DiffuseException>(() => (Micro with { NumClasses = 3 }).Validate()).Message);
        Assert.Throws<DiffuseException>(() => (Micro with { TextEncoder = Text with { Heads = 3 } }).Validate());
        Assert.Throws<DiffuseException>(() => (Micro with { TextEncoder = Text with { Vocabulary = ["a", "b", "c"] } }).Validate());
        Assert.Throws<DiffuseException>(() => (Micro with { TextEncoder = Text with { MaxLength = 1 } }).Validate());
        Assert.Contains("captions must be 'captions.tsv' or absent", Assert.Throws<DiffuseException>(() => (Micro with { TextEncoder = Text with { Captions = "notes.txt" } }).Validate()).Message);
        (Micro with { TextEncoder = Text with { Captions = Diffuse.Data.ImageDatasets.CaptionsFile } }).Validate();
        var json = System.Text.Json.JsonSerializer.Serialize(Micro, Diffuse.IO.Json.Options);
        Assert.Contains("\"text_encoder\"", json);
        Assert.DoesNotContain("captions", json); // templates of class names: the field stays out, so older fingerprints hold
        Assert.DoesNotContain("text_encoder", System.Text.Json.JsonSerializer.Serialize(Micro with { TextEncoder = null }, Diffuse.IO.Json.Options));
        var back = System.Text.Json.JsonSerializer.Deserialize<UNetConfig>(json, Diffuse.IO.Json.Options)!;
        Assert.Equal(Text.Vocabulary, back.TextEncoder!.Vocabulary);
        Assert.Equal(Text with { Vocabulary = back.TextEncoder.Vocabulary }, back.TextEncoder);
        Assert.Equal(WordTokenizer.SpecialTokens, new TextEncoderConfig().Vocabulary);
    }
}
