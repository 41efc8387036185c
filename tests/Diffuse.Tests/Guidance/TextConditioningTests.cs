using Diffuse.Guidance;
using Xunit;
using static TorchSharp.torch;

namespace Diffuse.Tests.Guidance;

public class TextConditioningTests
{
    /// <summary>A fake text network: x times (1 + the sum of the token ids of each row) plus t; it records each call's batch size.</summary>
    sealed class FakeNetwork
    {
        public List<long> Calls { get; } = [];

        public Tensor Forward(Tensor x, Tensor t, Tensor tokens)
        {
            Calls.Add(x.shape[0]);
            var scale = (tokens.sum(1).to(ScalarType.Float32) + 1).view(-1, 1, 1, 1);
            return x * scale + t.to(ScalarType.Float32).view(-1, 1, 1, 1);
        }
    }

    [Fact]
    public void GuidanceAgainstTheEmptyPromptFollowsItsClosedFormInOneDoubledPass()
    {
        using var g = new TorchSharp.torch.Generator(7);
        using var x = randn([2, 1, 3, 3], generator: g);
        using var t = tensor(new long[] { 4, 9 });
        using var tokens = tensor(new long[] { 2, 5, 0, 2, 7, 3 }, [2, 3]);
        using var empty = tensor(new long[] { 2, 0, 0, 2, 0, 0 }, [2, 3]);
        var network = new FakeNetwork();
        using var guided = ClassifierFreeGuidance.Wrap(network.Forward, tokens, empty, 3, 0, 1)(x, t);
        Assert.Equal([4L], network.Calls);
        // eps_c = x (1 + sum) + t, eps_u = x 3 + t: eps_u + 3 (eps_c - eps_u) = x (3 + 3 (sum - 2)) + t.
        using var sums = tensor(new float[] { 7, 12 }).view(-1, 1, 1, 1);
        using var expected = x * (3 + 3 * (sums + 1 - 3)) + t.to(ScalarType.Float32).view(-1, 1, 1, 1);
        Assert.True(guided.allclose(expected, rtol: 1e-5, atol: 1e-5));
        network.Calls.Clear();
        using var conditional = ClassifierFreeGuidance.Wrap(network.Forward, tokens, empty, 1, 0, 1)(x, t);
        using var unconditional = ClassifierFreeGuidance.Wrap(network.Forward, tokens, empty, 0, 0, 1)(x, t);
        Assert.Equal([2L, 2L], network.Calls);
        Assert.True(unconditional.allclose(x * 3 + t.to(ScalarType.Float32).view(-1, 1, 1, 1)));
        Assert.True(conditional.allclose(x * (sums + 1) + t.to(ScalarType.Float32).view(-1, 1, 1, 1)));
    }

    [Fact]
    public void PromptsAreCheckedAndLaidOutInRows()
    {
        var rows = TextConditioning.Rows(["a", "b"], 3, 2.5);
        Assert.Equal(["a", "a", "a", "b", "b", "b"], rows.Prompts);
        Assert.Equal(2.5, rows.GuidanceScale);
        Assert.Equal(["x", "x"], TextConditioning.Single(2, "x").Prompts);
        rows.Validate(6);
        Assert.Throws<DiffuseException>(() => rows.Validate(5));
        Assert.Throws<DiffuseException>(() => (rows with { GuidanceScale = -1 }).Validate(6));
        Assert.Throws<DiffuseException>(() => (rows with { GuidanceRescale = 2 }).Validate(6));
        Assert.Throws<DiffuseException>(() => TextConditioning.Rows([], 3));
    }
}
