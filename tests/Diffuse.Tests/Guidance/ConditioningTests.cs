using Diffuse.Guidance;
using Xunit;

namespace Diffuse.Tests.Guidance;

public class ConditioningTests
{
    static readonly string[] Fashion = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    [Theory]
    [InlineData("Ankle boot", 9)]
    [InlineData("ankle boot", 9)]
    [InlineData(" Sneaker ", 7)]
    [InlineData("3", 3)]
    [InlineData("0", 0)]
    public void AClassIsANameOrAnIndex(string text, int expected) => Assert.Equal(expected, ClassLabels.Resolve(text, Fashion));

    [Fact]
    public void ANameWinsOverAnIndexThatSpellsTheSame()
    {
        string[] names = ["10", "20", "1"];
        Assert.Equal(2, ClassLabels.Resolve("1", names));
        Assert.Equal(0, ClassLabels.Resolve("10", names));
        Assert.Equal(2, ClassLabels.Resolve("2", names));
    }

    [Theory]
    [InlineData("10", "outside the model's labels 0..9")]
    [InlineData("-1", "outside the model's labels 0..9")]
    [InlineData("boot", "unknown class 'boot'")]
    public void ABadClassIsAOneLineErrorThatListsTheClasses(string text, string expected)
    {
        var e = Assert.Throws<DiffuseException>(() => ClassLabels.Resolve(text, Fashion));
        Assert.Contains(expected, e.Message);
        Assert.Contains("9 'Ankle boot'", e.Message);
        Assert.DoesNotContain("\n", e.Message);
    }

    [Fact]
    public void AModelWithoutClassesRefusesAClass() =>
        Assert.Contains("class-conditional", Assert.Throws<DiffuseException>(() => ClassLabels.Resolve("1", [])).Message);

    [Fact]
    public void ClassRowsRoundUpToAMultipleOfTheClasses()
    {
        var rows = Conditioning.ClassRows(64, 10, 3);
        Assert.Equal(70, rows.Labels.Length);
        Assert.Equal(7, Conditioning.PerClass(64, 10));
        for (int i = 0; i < 70; i++) Assert.Equal(i / 7, rows.Labels[i]);
        Assert.Equal(3, rows.GuidanceScale);
        Assert.Equal(4, Conditioning.ClassRows(3, 4).Labels.Length);
    }

    [Fact]
    public void CyclingLabelsAreBalanced()
    {
        var labels = Conditioning.Cycling(25, 10).Labels;
        Assert.Equal(25, labels.Length);
        Assert.Equal([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1], labels.Take(12));
        Assert.All(Enumerable.Range(0, 10), k => Assert.InRange(labels.Count(l => l == k), 2, 3));
    }

    [Fact]
    public void ValidateRefusesBadSettings()
    {
        Assert.Throws<DiffuseException>(() => new Conditioning([0, 11]).Validate(10, 2));
        Assert.Throws<DiffuseException>(() => new Conditioning([0, 1]).Validate(10, 3));
        Assert.Throws<DiffuseException>(() => new Conditioning([0], -1).Validate(10, 1));
        Assert.Throws<DiffuseException>(() => new Conditioning([0], double.NaN).Validate(10, 1));
        Assert.Throws<DiffuseException>(() => new Conditioning([0], 3, 1.5).Validate(10, 1));
        new Conditioning([0, 10], 7, 0.7).Validate(10, 2); // the null label is allowed
    }
}
